/**
 * Wiring for the gateway: one call builds the repository and the hot-path registry, keeps the registry fresh
 * through the process's ChangeWatcher, and exposes readiness and config reload.
 *
 *   const watcher = new ChangeWatcher(db, { intervalMs: store.pollIntervalMs, redisUrl: env.REDIS_URL });
 *   const identity = await startIdentity({ db, watcher, config: identityConfig });
 *   await watcher.start();
 *   // Capabilities.keys = identity.registry; admin: registerKeyAdminRoutes(admin, { keys: identity.repository })
 */
import type { ReadinessCheck } from '../core/gates.ts';
import type { Db } from '../store/db.ts';
import type { ChangeWatcher } from '../store/changes.ts';
import { configKeyEntries } from './bootstrap.ts';
import type { IdentityConfig } from './config.ts';
import { KeyRepository } from './keys.ts';
import { KeyRegistry } from './registry.ts';
import { newReplicaId, ReplicaReporter } from './replicas.ts';

export interface IdentityService {
  repository: KeyRepository;
  registry: KeyRegistry;
  /** Validate-then-apply for config reload: throws IdentityConfigError (old keys keep serving) or applies. */
  applyConfig(config: IdentityConfig, env?: NodeJS.ProcessEnv): void;
  readiness: ReadinessCheck;
  /** This gateway's row in identity_replicas (see replicas.ts). */
  replicaId: string;
  stop(): Promise<void>;
}

export async function startIdentity(opts: {
  db: Db;
  watcher: ChangeWatcher;
  config: IdentityConfig;
  env?: NodeJS.ProcessEnv;
  onError?: (err: Error) => void;
  /** With an audit log: key changes made through this process are also audit inbox rows (src/audit/inbox.ts). */
  auditActor?: string;
  /** This gateway's id in identity_replicas; default host:pid:random. */
  replicaId?: string;
}): Promise<IdentityService> {
  // eslint-disable-next-line prefer-const -- assigned once, after the repository whose callbacks read it exists
  let registry: KeyRegistry | undefined;
  const repository = new KeyRepository(opts.db, {
    // Read-your-writes: a key created or revoked through this process serves (or stops) before the call returns.
    onChange: async (topic) => {
      await opts.watcher.publish(topic);
      await registry?.reload();
    },
    ...(opts.auditActor ? { auditActor: opts.auditActor } : {}),
  });
  // Each revision the registry applies is reported, so a writer elsewhere (the CLI) can wait until this gateway
  // answers with its change before it returns (read-your-writes across processes; replicas.ts).
  const reporter = new ReplicaReporter(opts.db, opts.replicaId ?? newReplicaId(), (err) =>
    opts.onError?.(new Error(`could not report the applied key revision (key changes made elsewhere wait for it): ${err.message}`)),
  );
  registry = new KeyRegistry(repository, {
    ...(opts.onError ? { onError: opts.onError } : {}),
    onLoad: () => void reporter.applied(registry!.revision ?? 0),
  });
  registry.setConfigKeys(configKeyEntries(opts.config, opts.env));
  await registry.reload();
  await reporter.applied(registry.revision ?? 0);
  reporter.start();
  const detach = registry.follow(opts.watcher);
  const reg = registry;
  return {
    repository,
    registry: reg,
    replicaId: reporter.replicaId,
    applyConfig: (config, env) => reg.setConfigKeys(configKeyEntries(config, env ?? opts.env)),
    readiness: {
      name: 'identity',
      check: () => (reg.lastLoadedAt > 0 ? { ok: true } : { ok: false, detail: 'keys not loaded' }),
    },
    stop: async () => {
      detach();
      await reporter.stop();
    },
  };
}

export { KeyRegistry, type KeyLookupResult } from './registry.ts';
export { KeyRepository, IDENTITY_TOPIC, type KeyRecord } from './keys.ts';
export { registerKeyAdminRoutes } from './admin-routes.ts';
export { configSchema, type IdentityConfig } from './config.ts';
export { hashSecret } from './secrets.ts';
export { waitForReplicas, type ReplicaConfirmation } from './replicas.ts';
