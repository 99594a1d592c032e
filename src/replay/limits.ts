/**
 * Limits replayed with the gateway's own in-memory limiter (limits/memory.ts: GCRA per key/account/org, monthly
 * budgets) on a replay clock: each recorded request is admitted at its own time against what the requests before
 * it used, and a served one is settled with its recorded tokens and cost. Spend starts at zero at the start of the
 * recording (budgets see only the replayed traffic).
 */
import type { LimitsConfig } from '../limits/config.ts';
import { MemoryLimiter } from '../limits/memory.ts';
import type { ReplayLimits } from './engine.ts';

export function replayLimits(config: LimitsConfig): ReplayLimits & { close(): Promise<void> } {
  let now = 0;
  const limiter = new MemoryLimiter(config, () => now);
  return {
    admit(p, model, estimatedTokens, t) {
      now = t;
      return limiter.admitSync(p, model, estimatedTokens);
    },
    settle(p, tokens, costUsd, admittedTokens, t) {
      now = t;
      limiter.settleSync(p, tokens, costUsd, admittedTokens);
    },
    close: () => limiter.close(),
  };
}
