/**
 * The gateway's screening gate: a subject (account or organisation) with a denied-party hit that is not cleared is
 * refused the governed models (those directives govern, and `directives.governedModels`); other models stay
 * available. The blocked set is loaded from the store and reloaded when the `screening` revision moves (a run or a
 * review on any replica); the request path pays two Set lookups.
 */
import type { RequestGate } from '../core/gates.ts';
import type { Verdict } from '../core/types.ts';
import type { ChangeWatcher } from '../store/changes.ts';
import { SCREENING_TOPIC, type ScreeningRepository } from './repository.ts';

const ALLOW: Verdict = Object.freeze({ action: 'allow' as const });
const BLOCKED: Verdict = Object.freeze({
  action: 'refuse' as const,
  status: 403,
  code: 'denied_party_screening',
  message: 'Access to this model is blocked for your account while a denied-party screening match is reviewed.',
});

export class ScreeningGate {
  private accounts: ReadonlySet<string> = new Set();
  private orgs: ReadonlySet<string> = new Set();
  private unsubscribe: (() => void) | null = null;

  readonly gate: RequestGate = {
    name: 'screening',
    check: (input) => {
      if (this.accounts.size === 0 && this.orgs.size === 0) return ALLOW;
      const p = input.principal;
      if (!this.accounts.has(p.accountId) && (p.orgId === null || !this.orgs.has(p.orgId))) return ALLOW;
      return this.governed(input.model) ? BLOCKED : ALLOW;
    },
  };

  constructor(
    private readonly repo: ScreeningRepository,
    private readonly governed: (model: string) => boolean,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  get blockedCount(): number {
    return this.accounts.size + this.orgs.size;
  }

  async start(watcher?: ChangeWatcher): Promise<void> {
    await this.reload().catch((err: Error) => this.onError(err));
    if (watcher) this.unsubscribe = watcher.on((topic) => (topic === SCREENING_TOPIC ? void this.reload().catch((err: Error) => this.onError(err)) : undefined));
  }

  async reload(): Promise<void> {
    const blocked = await this.repo.blocked();
    const accounts = new Set<string>();
    const orgs = new Set<string>();
    for (const k of blocked.keys()) {
      if (k.startsWith('account:')) accounts.add(k.slice(8));
      else if (k.startsWith('org:')) orgs.add(k.slice(4));
    }
    this.accounts = accounts;
    this.orgs = orgs;
  }

  stop(): void {
    this.unsubscribe?.();
  }
}
