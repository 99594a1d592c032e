/**
 * The HTTP shell: Fastify routes, body parsing (size limit, UTF-8, JSON), protocol-specific error rendering,
 * health/readiness/metrics, and the admin mount point. All request logic lives in RequestPath.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ModelAccess, ReadinessCheck } from '../core/gates.ts';
import type { Principal } from '../core/types.ts';
import { adminAuthHook } from '../admin/auth.ts';
import { GatewayError } from '../protocol/errors.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { Catalogue } from './catalogue.ts';
import { depthMessage, excessiveDepthPath } from '../protocol/json-depth.ts';
import { ANTHROPIC, OPENAI, withJsonDepth, type IngressProtocol } from './protocols.ts';
import { ModelLists } from './model-list.ts';
import { bearerOrApiKey, type KeyLookup, type RequestPath } from './request-path.ts';

export interface AppDeps {
  logger: Logger;
  bodyLimitBytes: number;
  /** Slow-client bounds at start (applyConnectionLimits applies later values on reload). */
  connections: ConnectionLimits;
  /** Deepest JSON nesting accepted in a body (read per request, so a reload takes effect). */
  maxJsonDepth(): number;
  path: RequestPath;
  /** Who is asking, for the routes outside the request path (the model catalogue). */
  keys: KeyLookup;
  /** Which models a principal may use (absent: every non-hidden model). */
  modelAccess?: ModelAccess;
  metrics: GatewayMetrics;
  catalogue(): Catalogue;
  readiness(): readonly ReadinessCheck[];
  /** Registers admin routes (already behind admin auth) on an encapsulated child instance. */
  admin?(app: FastifyInstance): void | Promise<void>;
  /** Admin routes that carry their full `/admin/v1/…` paths; same auth, no prefix. */
  adminAbsolute?(app: FastifyInstance): void | Promise<void>;
  /** Returns the admin token or undefined when the admin API is disabled. */
  adminToken(): string | undefined;
  /** The admin scopes' authentication hook, when something richer than the bearer token is wired (operator sessions). */
  adminAuth?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Routes outside the admin API and the request path, with no authentication of their own (the console's pages). */
  publicRoutes?(app: FastifyInstance): void | Promise<void>;
}

export interface ConnectionLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

/**
 * Slow clients cannot hold connections: Node answers 408 and closes a connection whose headers (headersTimeout) or
 * whole request, body included (requestTimeout), take longer than allowed — the response, however long it streams,
 * is not counted — and refuses connections beyond maxConnections. Headers can never be allowed longer than the whole
 * request. Settable on a running server, so a reload applies new values to new requests.
 */
export function applyConnectionLimits(server: import('node:http').Server, limits: ConnectionLimits): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.maxConnections = limits.maxConnections;
}

function protocolFor(url: string): IngressProtocol {
  return url.startsWith('/v1/messages') ? ANTHROPIC : OPENAI;
}

function bodyError(message: string, code: string, status = 400): GatewayError {
  return new GatewayError({ status, kind: status === 413 ? 'payload_too_large' : 'invalid_request', code, message });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // Fastify's own logger stays off: the request path writes exactly one structured line per request.
    logger: false,
    bodyLimit: deps.bodyLimitBytes,
    return503OnClosing: true,
    keepAliveTimeout: 75_000,
    requestTimeout: deps.connections.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(deps.connections.headersTimeoutMs, deps.connections.requestTimeoutMs),
      requestTimeout: deps.connections.requestTimeoutMs,
      // Node checks those timeouts every 30 s by default, which would let a slow client hold on far past them.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(deps.connections.headersTimeoutMs, deps.connections.requestTimeoutMs) / 4))),
    },
    requestIdHeader: false,
    // Admin responses carry it as x-request-id and every unexpected admin error is logged with it.
    genReqId: () => randomUUID(),
  });

  applyConnectionLimits(app.server, deps.connections);

  // One parser for every content type: SDKs send application/json, curl users sometimes forget the header.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes }, (_req: FastifyRequest, body: Buffer | string, done) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    if (buf.length === 0) return done(bodyError('The request body is empty; expected a JSON object.', 'empty_body'), undefined);
    if (!isUtf8(buf)) return done(bodyError('The request body is not valid UTF-8.', 'invalid_utf8'), undefined);
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      return done(bodyError(`The request body is not valid JSON: ${(err as Error).message}.`, 'invalid_json'), undefined);
    }
    // JSON.parse is iterative and takes any depth; much after it is recursive. Refuse deep bodies here, first.
    const max = deps.maxJsonDepth();
    const deep = excessiveDepthPath(value, max);
    if (deep !== null) return done(new GatewayError({ status: 400, kind: 'invalid_request', code: 'json_too_deep', param: deep || null, message: depthMessage(deep, max) }), undefined);
    done(null, value);
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, request, reply) => {
    const protocol = protocolFor(request.url);
    let gwErr: GatewayError;
    if (err instanceof GatewayError) gwErr = err;
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      gwErr = bodyError(`The request body exceeds the limit of ${deps.bodyLimitBytes} bytes.`, 'request_too_large', 413);
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      gwErr = bodyError(err.message, 'invalid_request', err.statusCode);
    } else {
      deps.logger.error({ requestId: request.id, err: err.message, url: request.url.split('?')[0] }, 'unhandled error');
      gwErr = new GatewayError({ status: 500, kind: 'internal', code: 'internal_error', message: 'Internal gateway error.' });
    }
    if (request.url.startsWith('/admin/')) {
      reply.code(gwErr.status).send({ error: { type: gwErr.code, message: gwErr.message } });
      return;
    }
    reply.hijack();
    deps.path.sendEarlyError(protocol, request.raw, reply.raw, gwErr);
  });

  app.setNotFoundHandler((request, reply) => {
    const err = new GatewayError({ status: 404, kind: 'not_found', code: 'route_not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}.` });
    reply.code(404).header('content-type', 'application/json').send(protocolFor(request.url).errorBody(err));
  });

  app.post('/v1/chat/completions', (request, reply) => {
    reply.hijack();
    return deps.path.handle(withJsonDepth(OPENAI, deps.maxJsonDepth()), request.raw, reply.raw, request.body);
  });
  app.post('/v1/messages', (request, reply) => {
    reply.hijack();
    return deps.path.handle(withJsonDepth(ANTHROPIC, deps.maxJsonDepth()), request.raw, reply.raw, request.body);
  });
  // The model catalogue is the caller's own by default: a key is required and only models its principal may use
  // are listed (server.publicModels: true lists every non-hidden model to anyone). Errors in the protocol the
  // caller speaks: Anthropic's SDK sends anthropic-version.
  const modelLists = new ModelLists(deps.modelAccess ?? null);
  const listProtocol = (request: FastifyRequest) => (request.headers['anthropic-version'] !== undefined ? ANTHROPIC : OPENAI);
  const sendJsonError = (reply: FastifyReply, protocol: IngressProtocol, err: GatewayError) => reply.code(err.status).header('content-type', 'application/json').send(protocol.errorBody(err));
  /** The caller's principal, or undefined after answering 401; null when the catalogue is public. */
  const catalogueCaller = (request: FastifyRequest, reply: FastifyReply, catalogue: Catalogue): Principal | null | undefined => {
    if (catalogue.config.server.publicModels) return null;
    const auth = deps.keys.lookup(bearerOrApiKey(request.raw));
    if (auth.ok) return auth.principal;
    const message = auth.reason === 'missing' ? 'Missing API key. Send it as `Authorization: Bearer <key>` or `x-api-key: <key>`.' : auth.reason === 'revoked' ? 'This API key has been revoked.' : 'Invalid API key.';
    const code = auth.reason === 'missing' ? 'missing_api_key' : auth.reason === 'revoked' ? 'key_revoked' : 'invalid_api_key';
    sendJsonError(reply, listProtocol(request), new GatewayError({ status: 401, kind: 'authentication', code, message }));
    return undefined;
  };
  app.get('/v1/models', (request, reply) => {
    const catalogue = deps.catalogue();
    const principal = catalogueCaller(request, reply, catalogue);
    if (principal === undefined) return reply;
    const body = principal === null ? catalogue.modelsListBody : modelLists.bodyFor(principal, catalogue, Date.now());
    return reply.header('content-type', 'application/json').send(body);
  });
  app.get<{ Params: { id: string } }>('/v1/models/:id', (request, reply) => {
    const catalogue = deps.catalogue();
    const principal = catalogueCaller(request, reply, catalogue);
    if (principal === undefined) return reply;
    const id = request.params.id;
    const m = principal === null ? catalogue.models.get(id) : modelLists.modelFor(principal, catalogue, id, Date.now());
    if (!m || m.config.hidden) {
      const err = new GatewayError({ status: 404, kind: 'not_found', code: 'model_not_found', message: `The model '${id.slice(0, 200)}' does not exist or you do not have access to it.` });
      return sendJsonError(reply, listProtocol(request), err);
    }
    return reply.header('content-type', 'application/json').send(m.listEntry);
  });

  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_request, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    let ok = true;
    for (const c of deps.readiness()) {
      const r = c.check();
      checks[c.name] = r;
      if (!r.ok) ok = false;
    }
    reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  /**
   * What every admin scope shares: the request id on the response, and one place where unexpected errors end up
   * (capability error handlers answer the errors they know and rethrow the rest) — logged with the request id and
   * answered 500 {error: {type, message}} naming it. Any other 5xx an admin route sends is logged too.
   */
  const logged = new WeakSet<object>();
  const adminScope = (admin: FastifyInstance): void => {
    admin.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    admin.addHook('onRequest', deps.adminAuth ?? adminAuthHook(deps.adminToken));
    admin.setErrorHandler((err: Error & { statusCode?: number; status?: number }, request, reply) => {
      const status = err instanceof GatewayError ? err.status : (err.statusCode ?? err.status);
      if (status !== undefined && status >= 400 && status < 500) {
        return reply.code(status).send({ error: { type: status === 413 ? 'request_too_large' : 'invalid_request', message: err.message } });
      }
      logged.add(request);
      deps.logger.error({ requestId: request.id, method: request.method, url: request.url.split('?')[0], err: err.message, stack: err.stack }, 'admin request failed');
      return reply.code(500).send({ error: { type: 'internal', message: `Internal error while handling the admin request (request id ${request.id}); the gateway log has the details.` } });
    });
    admin.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode >= 500 && !logged.has(request)) {
        deps.logger.error({ requestId: request.id, method: request.method, url: request.url.split('?')[0], status: reply.statusCode }, 'admin request failed');
      }
    });
  };

  await app.register(
    async (admin) => {
      adminScope(admin);
      admin.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { type: 'not_found', message: `No admin route for ${request.method} ${request.url.split('?')[0]}.` } }));
      if (deps.admin) await deps.admin(admin);
    },
    { prefix: '/admin/v1' },
  );
  if (deps.publicRoutes) await app.register(async (scope) => deps.publicRoutes!(scope));
  if (deps.adminAbsolute) {
    await app.register(async (admin) => {
      adminScope(admin);
      await deps.adminAbsolute!(admin);
    });
  }

  return app;
}
