/**
 * Gateway lifecycle: load config, build the catalogue, serve, reload on demand (SIGHUP) without dropping
 * in-flight requests, shut down gracefully. Capabilities are injected, so this file has no opinion on them.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DurableSink, EventSink, GateInput, ModelAccess, ReadinessCheck, RequestGate } from '../core/gates.ts';
import type { LazyTokenCounter, TokenCounter } from '../meter/tokenizer.ts';
import type { CanonicalRequest } from '../core/canonical.ts';
import { loadConfigFile } from '../config/load.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { createLogger } from '../observability/logger.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';
import { applyConnectionLimits, buildApp, type AppDeps } from './app.ts';
import { buildCatalogue, type Catalogue } from './catalogue.ts';
import { OverloadMonitor } from './overload.ts';
import { RequestPath, type KeyLookup, type StreamModerator } from './request-path.ts';

export interface Capabilities {
  keys: KeyLookup;
  /** Which models each principal may use, for GET /v1/models. */
  modelAccess?: ModelAccess;
  gates?: () => readonly RequestGate[];
  sinks?: () => readonly EventSink[];
  durable?: () => DurableSink | null;
  refuseWhenUnaudited?: boolean;
  readiness?: () => readonly ReadinessCheck[];
  admin?: (app: FastifyInstance) => void | Promise<void>;
  /** Admin routes registered with their full /admin/v1/… paths. */
  adminAbsolute?: (app: FastifyInstance) => void | Promise<void>;
  /** Replaces the bearer-only admin check (operator sessions and roles); see AppDeps.adminAuth. */
  adminAuth?: AppDeps['adminAuth'];
  /** Routes outside the admin API and the request path (the web console's pages). */
  publicRoutes?: (app: FastifyInstance) => void | Promise<void>;
  fingerprint?: (req: CanonicalRequest) => { promptHash?: string; promptSketch?: string };
  moderator?: (input: GateInput) => StreamModerator | null;
  /** Token counting for upstreams that report no usage. */
  tokens?: TokenCounter | LazyTokenCounter;
  /** Called with each successfully loaded config (start and reload), before it takes effect. May throw to reject it. */
  onConfig?: (config: GatewayConfig) => void | Promise<void>;
  /** Called on shutdown after the server stopped accepting. */
  close?: () => Promise<void>;
}

export interface GatewayOptions {
  configPath: string;
  /** Shared metrics (capabilities register theirs on the same registry). */
  metrics?: GatewayMetrics;
  /** Overrides server.port (0 = ephemeral, for tests). */
  port?: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

const EMPTY: readonly never[] = Object.freeze([]);

export class Gateway {
  private catalogueRef: Catalogue;
  private readonly metrics: GatewayMetrics;
  private app!: FastifyInstance;
  private path!: RequestPath;
  private overload: OverloadMonitor | undefined;
  private closing: Promise<void> | undefined;
  /** The tracer for the current config's `tracing:` section, null when tracing is off. */
  private tracing: Tracing | null = null;
  private tracingKey = '';
  readonly logger: Logger;
  url = '';

  private constructor(
    private readonly opts: GatewayOptions,
    private readonly caps: Capabilities,
    config: GatewayConfig,
  ) {
    this.logger = opts.logger ?? createLogger(config.server.logLevel);
    this.metrics = opts.metrics ?? new GatewayMetrics();
    this.catalogueRef = buildCatalogue(config, opts.env ?? process.env).catalogue;
  }

  static async start(opts: GatewayOptions, caps: Capabilities): Promise<Gateway> {
    const config = loadConfigFile(opts.configPath);
    await caps.onConfig?.(config);
    const gw = new Gateway(opts, caps, config);
    await gw.applyTracing(config);
    await gw.listen();
    return gw;
  }

  get config(): GatewayConfig {
    return this.catalogueRef.config;
  }

  get catalogue(): Catalogue {
    return this.catalogueRef;
  }

  get metricsRegistry() {
    return this.metrics.registry;
  }

  private async listen(): Promise<void> {
    const config = this.catalogueRef.config;
    const env = this.opts.env ?? process.env;
    const path = (this.path = new RequestPath({
      catalogue: () => this.catalogueRef,
      keys: this.caps.keys,
      gates: this.caps.gates ?? (() => EMPTY),
      sinks: this.caps.sinks ?? (() => EMPTY),
      durable: this.caps.durable ?? (() => null),
      refuseWhenUnaudited: this.caps.refuseWhenUnaudited ?? true,
      metrics: this.metrics,
      logger: this.logger,
      ...(this.caps.fingerprint ? { fingerprint: this.caps.fingerprint } : {}),
      ...(this.caps.moderator ? { moderator: this.caps.moderator } : {}),
      ...(this.caps.tokens ? { tokens: this.caps.tokens } : {}),
      overload: () => this.catalogueRef.config.overload,
      tracing: () => this.tracing,
    }));
    this.overload = new OverloadMonitor(() => this.catalogueRef.config.overload, () => path.inFlight, this.metrics.registry);
    const configReadiness = { name: 'config', check: () => ({ ok: true, detail: `${this.catalogueRef.models.size} models` }) };
    this.app = await buildApp({
      logger: this.logger,
      bodyLimitBytes: config.server.bodyLimitBytes,
      connections: config.server,
      maxJsonDepth: () => this.catalogueRef.config.server.maxJsonDepth,
      path,
      keys: this.caps.keys,
      ...(this.caps.modelAccess ? { modelAccess: this.caps.modelAccess } : {}),
      metrics: this.metrics,
      catalogue: () => this.catalogueRef,
      readiness: () => [configReadiness, this.overload!.readiness, ...(this.caps.readiness?.() ?? [])],
      ...(this.caps.admin ? { admin: this.caps.admin } : {}),
      ...(this.caps.adminAbsolute ? { adminAbsolute: this.caps.adminAbsolute } : {}),
      ...(this.caps.adminAuth ? { adminAuth: this.caps.adminAuth } : {}),
      ...(this.caps.publicRoutes ? { publicRoutes: this.caps.publicRoutes } : {}),
      adminToken: () => env[this.catalogueRef.config.admin.tokenEnv] || undefined,
    });
    const address = await this.app.listen({ port: this.opts.port ?? config.server.port, host: this.opts.host ?? config.server.host });
    this.url = address.replace('[::1]', '127.0.0.1');
    this.logger.info({ url: this.url, models: [...this.catalogueRef.models.keys()] }, 'gatehouse listening');
  }

  /**
   * Starts, replaces or stops the tracer as the config's `tracing:` section says; the SDK is loaded only when one
   * is configured. A replaced tracer exports what it buffered before it closes.
   */
  private async applyTracing(config: GatewayConfig): Promise<void> {
    const key = config.tracing ? JSON.stringify(config.tracing) : '';
    if (key === this.tracingKey) return;
    const old = this.tracing;
    if (config.tracing) {
      const { Tracing } = await import('../observability/tracing.ts');
      this.tracing = await Tracing.start(config.tracing);
    } else this.tracing = null;
    this.tracingKey = key;
    if (old) void old.shutdown().catch((err: Error) => this.logger.warn({ err: err.message }, 'trace export failed on shutdown'));
  }

  /** Exports the spans buffered so far (tests, shutdown). */
  async flushTraces(): Promise<void> {
    await this.tracing?.flush();
  }

  /**
   * Re-reads the config file. A bad config is rejected and the old one keeps serving. In-flight requests
   * keep the catalogue (and providers) they started with; retired providers close after the longest timeout.
   */
  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const config = loadConfigFile(this.opts.configPath);
      await this.caps.onConfig?.(config);
      const { catalogue, retired } = buildCatalogue(config, this.opts.env ?? process.env, this.catalogueRef);
      await this.applyTracing(config);
      this.catalogueRef = catalogue;
      applyConnectionLimits(this.app.server, config.server);
      this.metrics.configReloads.labels('ok').inc();
      this.logger.info({ models: [...catalogue.models.keys()] }, 'config reloaded');
      if (retired.length) {
        const grace = Math.max(...config.models.map((m) => m.timeoutMs), config.routing.deadlineMs);
        setTimeout(() => void Promise.allSettled(retired.map((p) => p.close())), grace).unref();
      }
      return { ok: true };
    } catch (err) {
      this.metrics.configReloads.labels('rejected').inc();
      const error = (err as Error).message;
      this.logger.error({ error }, 'config reload rejected; keeping the previous config');
      return { ok: false, error };
    }
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (up to server.shutdownGraceMs), then
   * close every connection, the capabilities and the upstream pools.
   */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      const server = this.app.server;
      server.close();
      server.closeIdleConnections();
      const deadline = Date.now() + this.catalogueRef.config.server.shutdownGraceMs;
      while (this.path.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      server.closeAllConnections();
      await this.app.close();
      this.overload?.close();
      await this.caps.close?.();
      await Promise.allSettled([...this.catalogueRef.providers.values()].map((p) => p.close()));
      await this.tracing?.shutdown().catch((err: Error) => this.logger.warn({ err: err.message }, 'trace export failed on shutdown'));
      this.logger.flush?.();
    })();
    return this.closing;
  }
}
