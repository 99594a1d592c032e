/**
 * Adapters from a RateLimiter to the gateway's contracts (src/core/gates.ts):
 *  - `limitsGate` is a RequestGate: admits the request with an estimate of its input tokens (prompt chars / 4, as meter/usage.ts);
 *    a re-check of the same request (after a route) reuses the first verdict instead of charging twice.
 *  - the returned `sink` is an EventSink that settles each request with its real tokens and cost (also for
 *    client-closed streams, whose events carry what was actually streamed), charging only the difference
 *    from the estimate.
 *  - `readiness` is the /readyz line: says when Redis is down and which fallback runs (not ok only for fallback refuse).
 */
import type { CanonicalRequest } from '../core/canonical.ts';
import type { EventSink, ReadinessCheck, RequestGate } from '../core/gates.ts';
import type { Verdict } from '../core/types.ts';
import { CHARS_PER_TOKEN } from '../core/types.ts';
import type { RateLimiter } from './index.ts';

export function estimateRequestTokens(req: CanonicalRequest): number {
  let chars = req.system?.length ?? 0;
  for (const m of req.messages) for (const b of m.content) chars += b.type === 'text' ? b.text.length : b.type === 'tool_result' ? b.content.length : 64;
  return chars === 0 ? 0 : Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

const MEMO_KEY = 'limits.verdict';
/** Admitted estimates awaiting their event; bounded in case an event is never emitted. */
const MAX_PENDING = 100_000;

export function limitsGate(limiter: RateLimiter): { gate: RequestGate; sink: EventSink; readiness: ReadinessCheck } {
  const admitted = new Map<string, number>();
  const gate: RequestGate = {
    name: 'limits',
    admits: true,
    check(input) {
      const prior = input.memo.get(MEMO_KEY) as Verdict | undefined;
      if (prior) return prior;
      const estimate = estimateRequestTokens(input.request);
      const record = (v: Verdict): Verdict => {
        input.memo.set(MEMO_KEY, v);
        if (v.action === 'allow') {
          if (admitted.size >= MAX_PENDING) admitted.clear();
          admitted.set(input.requestId, estimate);
        }
        return v;
      };
      // An in-memory limiter answers at once: no promise, no extra turn of the microtask queue per request.
      if (limiter.admitSync) return record(limiter.admitSync(input.principal, input.model, estimate));
      return limiter.admit(input.principal, input.model, estimate).then(record);
    },
  };
  const sink: EventSink = {
    name: 'limits',
    onEvent(event) {
      const estimate = admitted.get(event.requestId);
      if (estimate === undefined) return; // never admitted (refused earlier, or unauthenticated)
      admitted.delete(event.requestId);
      const principal = { keyId: event.keyId ?? '', accountId: event.accountId ?? '', orgId: event.orgId };
      if (limiter.settleSync) limiter.settleSync(principal, event.inputTokens + event.outputTokens, event.costUsd, estimate);
      else void limiter.settle(principal, event.inputTokens + event.outputTokens, event.costUsd, estimate).catch(() => {});
    },
  };
  const readiness: ReadinessCheck = {
    name: 'limits',
    check: () => {
      const r = limiter.readiness();
      if (r.redisOk) return { ok: true, detail: r.mode };
      // Still serving on the fallback (per-replica limits or none): say so, but stay ready unless the fallback refuses,
      // or a Redis outage would take every replica out of the load balancer at once.
      const fallback = (r as { fallback?: string }).fallback ?? 'local';
      return { ok: fallback !== 'refuse', detail: `redis unavailable: limits on fallback '${fallback}'${fallback === 'local' ? ' (per-replica)' : ''}` };
    },
  };
  return { gate, sink, readiness };
}
