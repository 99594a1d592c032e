/**
 * Starts a real gateway (the same wiring as `gatehouse serve`) in-process on an ephemeral port, in front of an
 * HTTP simulator speaking both protocols, with keys created through the identity repository on the chosen
 * store backend. Log lines are captured for assertions.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AbuseService } from '../../src/abuse/service.ts';
import { KeyRepository } from '../../src/identity/keys.ts';
import { startSimulatorServer, type RunningSimulator } from '../../src/providers/simulator/server.ts';
import { composeGateway } from '../../src/server/compose.ts';
import type { Gateway } from '../../src/server/gateway.ts';
import { ALL_MIGRATIONS } from '../../src/server/migrations.ts';
import { openTestDb, BACKENDS as STORE_BACKENDS } from '../../src/store/testing.ts';
import { standardConfig, tempDir, writeConfig } from './config.ts';

export const BACKENDS = STORE_BACKENDS;

export interface Harness {
  url: string;
  gateway: Gateway;
  sim: RunningSimulator;
  keys: { valid: string; revoked: string };
  configPath: string;
  storeUrl: string;
  /** The abuse service when the config enables it (tests trigger analysis with `analyseNow()`). */
  abuse: AbuseService | null;
  logLines(): Record<string, any>[];
  close(): Promise<void>;
}

export async function startHarness(opts: {
  backend: 'sqlite' | 'postgres';
  extra?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Added to the standard providers / models. */
  providersExtra?: Record<string, unknown>;
  modelsExtra?: Record<string, unknown>[];
  /** Rewrites the store URL the gateway is given (e.g. through a TCP proxy the test can cut); keys are made directly. */
  gatewayStoreUrl?: (url: string) => string;
  /** store.pollIntervalMs of the gateway (default 250). */
  storePollIntervalMs?: number;
  /** Listen on this port (default: an ephemeral one), for configs that must name the gateway's own URL. */
  port?: number;
}): Promise<Harness> {
  const sim = await startSimulatorServer({
    behaviours: {
      'reset-upstream': { resetConnection: true },
      'paced-upstream': { tokensPerSecond: 50, replyTokens: 500 },
      'no-usage-upstream': { omitUsage: true },
    },
    defaults: { replyTokens: 12 },
  });
  const store = await openTestDb(opts.backend, ALL_MIGRATIONS);
  const repo = new KeyRepository(store.db);
  const valid = await repo.create({ accountId: 'acct-test', orgId: 'org-test', nationalities: ['US'], residence: 'US', kyc: 'basic', programmes: [], tier: 'general', staff: false });
  const revoked = await repo.create({ accountId: 'acct-revoked', orgId: null, nationalities: ['GB'], residence: 'GB', kyc: 'none', programmes: [], tier: 'general', staff: false });
  await repo.revoke(revoked.key.id, 'test');
  const dir = tempDir();
  const gatewayStore = opts.gatewayStoreUrl ? opts.gatewayStoreUrl(store.url) : store.url;
  const config = standardConfig({ simUrl: sim.url, storeUrl: gatewayStore, ...(opts.extra ? { extra: opts.extra } : {}) }) as Record<string, any>;
  if (!config.providers) config.providers = standardConfig({ simUrl: sim.url, storeUrl: gatewayStore }).providers;
  Object.assign(config.providers, opts.providersExtra ?? {});
  if (opts.storePollIntervalMs !== undefined) config.store = { ...config.store, pollIntervalMs: opts.storePollIntervalMs };
  config.models.push(...(opts.modelsExtra ?? []));
  const configPath = writeConfig(dir, config);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  let composed: Awaited<ReturnType<typeof composeGateway>>;
  try {
    composed = await composeGateway({ configPath, port: opts.port ?? 0, logger, env: { ...process.env, TEST_UPSTREAM_KEY: 'sk-upstream-test', ...(opts.env ?? {}) } });
  } catch (err) {
    // A gateway that cannot start must not leave the simulator and the store open: the test process would never exit.
    await sim.close();
    await store.cleanup();
    throw err;
  }
  return {
    url: composed.gateway.url,
    gateway: composed.gateway,
    sim,
    keys: { valid: valid.secret, revoked: revoked.secret },
    configPath,
    storeUrl: store.url,
    abuse: composed.abuse,
    logLines: () => lines.map((l) => JSON.parse(l) as Record<string, any>),
    close: async () => {
      await composed.close();
      await sim.close();
      await store.cleanup();
    },
  };
}
