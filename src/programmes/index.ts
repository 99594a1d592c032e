/**
 * The programmes capability: applications and grants for trusted-access programmes and KYC verification results,
 * laid over each principal on the request path from an in-memory copy (no store I/O per request). The copy is
 * reloaded when the `programmes` revision moves (any replica's change) and right after a change made here.
 */
import type { Notify } from '../core/notify.ts';
import type { KeyLookupResult, Principal } from '../core/types.ts';
import type { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { EMPTY_STATE, enrich, expiringGrants, type TrustState } from './overlay.ts';
import { PROGRAMMES_TOPIC, ProgrammeRepository } from './repository.ts';

export class ProgrammesService {
  readonly repository: ProgrammeRepository;
  private state: TrustState = EMPTY_STATE;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    db: Db,
    private readonly onError: (err: Error) => void = () => {},
    private readonly opts: { auditActor?: string; notify?: Notify; expiryWarningMs?: () => number; checkIntervalMs?: number } = {},
  ) {
    this.repository = new ProgrammeRepository(db, opts.auditActor ? { auditActor: opts.auditActor } : {});
  }

  async start(watcher?: ChangeWatcher): Promise<void> {
    await this.reload();
    if (watcher) this.unsubscribe = watcher.on((topic) => (topic === PROGRAMMES_TOPIC ? void this.reload().catch((err: Error) => this.onError(err)) : undefined));
    if (this.opts.notify) {
      this.timer = setInterval(() => this.announceExpiring(), this.opts.checkIntervalMs ?? 60_000);
      this.timer.unref();
    }
  }

  async reload(): Promise<void> {
    this.state = await this.repository.loadState();
    this.announceExpiring();
  }

  /** Announces each grant ending within the warning window; the dedupe key makes it once per grant and expiry, cluster-wide. */
  announceExpiring(now = Date.now()): void {
    const notify = this.opts.notify;
    const within = this.opts.expiryWarningMs?.() ?? 0;
    if (!notify || within <= 0) return;
    for (const g of expiringGrants(this.state, now, within)) {
      notify({
        type: 'programme.expiring',
        time: now,
        severity: 'warning',
        summary: `Programme ${g.programme} for ${g.subjectKind} ${g.subjectId} expires ${new Date(g.expiresAt!).toISOString()}`,
        details: { application: g.id, programme: g.programme, subject: { kind: g.subjectKind, id: g.subjectId }, expiresAt: g.expiresAt },
        dedupeKey: `programme-expiring:${g.id}:${g.expiresAt}`,
      });
    }
  }

  /** A principal with the grants and verification in force now (policy explain, replay, reports). */
  enrichPrincipal(p: Principal, now = Date.now()): Principal {
    return enrich(p, this.state, now);
  }

  /** A key lookup's result with grants and verification applied to its principal. */
  enrichLookup(r: KeyLookupResult, now = Date.now()): KeyLookupResult {
    if (!r.ok) return r;
    const principal = enrich(r.principal, this.state, now);
    return principal === r.principal ? r : { ok: true, principal };
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
  }
}

export { ProgrammeRepository } from './repository.ts';
export { configSchema, type ProgrammesConfig } from './config.ts';
