/**
 * A ring as a reviewer reads it: members, the signals that linked them with their weights, the evidence behind
 * the score, and a timeline. Pure text rendering of a Ring (used by `gatehouse abuse rings --explain RING` and
 * `GET /admin/v1/abuse/rings/:id/explain`).
 */
import type { AccountAction } from './gate.ts';
import type { Ring } from './types.ts';

const iso = (t: number) => (Number.isFinite(t) && t > 0 ? new Date(t).toISOString().slice(0, 16).replace('T', ' ') : '—');

export function explainRing(ring: Ring, actionOf: (accountId: string) => AccountAction | undefined = () => undefined, maxMembers = 1000): string[] {
  const lines: string[] = [];
  const acts: Record<string, number> = {};
  for (const m of ring.members) {
    const a = actionOf(m)?.action ?? 'none';
    acts[a] = (acts[a] ?? 0) + 1;
  }
  lines.push(`${ring.id}: ${ring.members.length} members, score ${ring.score.toFixed(3)}, active ${iso(ring.firstSeen)} → ${iso(ring.lastSeen)} UTC`);
  lines.push(`actions in force: ${Object.entries(acts).map(([a, n]) => `${a} ${n}`).join(', ')}`);
  if (ring.explainedByOrg) lines.push(`organisation: ${ring.explainedByOrg} (all members, KYC verified) — prior lowered, not capped${ring.review ? '; escalated to human review' : ''}`);
  lines.push('linked by (mean weight per linking pair, keys weighted by the share of their holders that are suspects):');
  for (const l of ring.links ?? []) lines.push(`  ${l.signal.padEnd(28)} ${l.weight.toFixed(3)}`);
  lines.push('evidence (strength in [0,1]):');
  for (const e of ring.evidence) lines.push(`  ${e.signal.padEnd(28)} ${e.strength.toFixed(3)}  ${e.detail}${e.exampleRequestIds.length ? `  e.g. ${e.exampleRequestIds.join(', ')}` : ''}`);
  lines.push('timeline (UTC day: signed up / first request / last request):');
  for (const d of ring.timeline ?? []) lines.push(`  ${d.day}  ${String(d.signedUp).padStart(5)} / ${String(d.started).padStart(5)} / ${String(d.lastActive).padStart(5)}`);
  const shown = ring.members.slice(0, maxMembers);
  lines.push(`members (${ring.members.length}${shown.length < ring.members.length ? `, first ${shown.length}` : ''}):`);
  for (let i = 0; i < shown.length; i += 6) lines.push('  ' + shown.slice(i, i + 6).map((m) => `${m}${actionOf(m) ? ` [${actionOf(m)!.action}]` : ''}`).join('  '));
  return lines;
}
