/**
 * The programmes capability: applications and grants for trusted-access programmes and KYC verification results,
 * laid over each principal on the request path from an in-memory copy (no store I/O per request). The copy is
 * reloaded when the `programmes` revision moves (any replica's change) and right after a change made here.
 */
import type { KeyLookupResult } from '../core/types.ts';
import type { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { EMPTY_STATE, enrich, type TrustState } from './overlay.ts';
import { PROGRAMMES_TOPIC, ProgrammeRepository } from './repository.ts';

export class ProgrammesService {
  readonly repository: ProgrammeRepository;
  private state: TrustState = EMPTY_STATE;
  private unsubscribe: (() => void) | undefined;

  constructor(
    db: Db,
    private readonly onError: (err: Error) => void = () => {},
    opts: { auditActor?: string } = {},
  ) {
    this.repository = new ProgrammeRepository(db, opts);
  }

  async start(watcher?: ChangeWatcher): Promise<void> {
    await this.reload();
    if (watcher) this.unsubscribe = watcher.on((topic) => (topic === PROGRAMMES_TOPIC ? void this.reload().catch((err: Error) => this.onError(err)) : undefined));
  }

  async reload(): Promise<void> {
    this.state = await this.repository.loadState();
  }

  /** A key lookup's result with grants and verification applied to its principal. */
  enrichLookup(r: KeyLookupResult, now = Date.now()): KeyLookupResult {
    if (!r.ok) return r;
    const principal = enrich(r.principal, this.state, now);
    return principal === r.principal ? r : { ok: true, principal };
  }

  stop(): void {
    this.unsubscribe?.();
  }
}

export { ProgrammeRepository } from './repository.ts';
export { configSchema, type ProgrammesConfig } from './config.ts';
