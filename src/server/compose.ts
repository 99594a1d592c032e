/**
 * Wiring: the one place that knows every capability. Opens the store, runs migrations, builds each
 * capability from its config section, and hands them to the Gateway as gates, sinks and admin routes.
 * `gatehouse serve` and the end-to-end tests both start the gateway through here.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadConfigFile } from '../config/load.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { ReadinessCheck } from '../core/gates.ts';
import { createLogger } from '../observability/logger.ts';
import { ALL_MIGRATIONS } from '../store/all-migrations.ts';
import { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { openDb, redactUrl } from '../store/open.ts';
import { KeyRegistry } from '../identity/registry.ts';
import { KeyRepository } from '../identity/keys.ts';
import { registerKeyAdminRoutes } from '../identity/admin-routes.ts';
import { Gateway } from './gateway.ts';

export interface ComposeOptions {
  configPath: string;
  port?: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface Composed {
  gateway: Gateway;
  db: Db;
  close(): Promise<void>;
}

export async function composeGateway(opts: ComposeOptions): Promise<Composed> {
  const env = opts.env ?? process.env;
  const initial: GatewayConfig = loadConfigFile(opts.configPath);
  const logger = opts.logger ?? createLogger(initial.server.logLevel);
  const storeUrl = env.DATABASE_URL || initial.store.url;
  const redisUrl = env.REDIS_URL || initial.redis.url;
  const db = await openDb(storeUrl);
  await migrate(db, ALL_MIGRATIONS);
  logger.info({ store: redactUrl(storeUrl), dialect: db.dialect }, 'store ready');

  const watcher = new ChangeWatcher(db, { ...(redisUrl ? { redisUrl } : {}), onError: (err) => logger.warn({ err: err.message }, 'change watcher error') });
  const keyRepo = new KeyRepository(db, { onChange: (topic) => watcher.publish(topic) });
  const keys = await KeyRegistry.load(keyRepo, { onError: (err) => logger.warn({ err: err.message }, 'key reload failed') });
  keys.follow(watcher);
  await watcher.start();

  let storeOk = true;
  const storeReadiness: ReadinessCheck = { name: 'store', check: () => ({ ok: storeOk, detail: db.dialect }) };
  const storeProbe = setInterval(() => {
    db.query('SELECT 1').then(
      () => (storeOk = true),
      () => (storeOk = false),
    );
  }, 2000);
  storeProbe.unref();

  const gateway = await Gateway.start(
    { configPath: opts.configPath, logger, env, ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.host ? { host: opts.host } : {}) },
    {
      keys,
      readiness: () => [storeReadiness],
      admin: async (app: FastifyInstance) => {
        registerKeyAdminRoutes(app, { db, keys: keyRepo });
      },
      close: async () => {
        clearInterval(storeProbe);
        await watcher.stop();
        await db.close();
      },
    },
  );
  return { gateway, db, close: () => gateway.close() };
}
