/**
 * Ring analysis: a pure function of the account table. Accounts whose own behaviour is suspicious enough
 * (`linkThreshold`) are linked through shared keys — payment fingerprint, client fingerprint, network prefix,
 * repeated prompt band keys (LSH over MinHash sketches) — with union–find; each component of at least
 * `minRingSize` accounts is a ring, scored from member behaviour, link density, sign-up burst and synchronised
 * hours. Only suspects are linked, so benign crowds that share infrastructure (corporate NAT, classrooms) or
 * a template (one company's automation) never chain into a ring through their benign members.
 */
import { HOURS, PREFIX_SLOTS, TEMPLATE_SLOTS, type AccountTable } from './account-table.ts';
import { accountFeatures, type AccountFeatures } from './features.ts';
import type { Ring, RingEvidence, SignalName } from './types.ts';

export interface AnalysisConfig {
  minRequests: number;
  linkThreshold: number;
  minRingSize: number;
  signupBurstWindowMs: number;
  /** Score multiplier for a ring whose members are all one KYC-verified organisation. */
  explainedOrgDamping: number;
  maxRings: number;
  /** At most this many suspects are linked per analysis (the most suspicious): bounds analysis memory. */
  maxSuspects: number;
  /** Mean output tokens per member below which a ring's score is scaled down (10× this counts fully). */
  harvestFloorTokens: number;
}

export interface MemberInfo {
  ringId: string;
  ringScore: number;
  suspicion: number;
  /** Linked by a shared payment card or by two shared keys at once (not just one fingerprint). */
  strong: boolean;
  kyc: string | undefined;
}

export interface Analysis {
  rings: Ring[];
  members: Map<string, MemberInfo>;
  suspects: number;
}

const FAMILY = { p: 1, c: 2, n: 4, t: 8 } as const;

class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]];
      x = this.parent[x];
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

export function keysOf(t: AccountTable, s: number, n: number): string[] {
  const keys: string[] = [];
  if (t.payment[s]) keys.push('p' + t.payment[s]);
  if (t.client[s]) keys.push('c' + t.client[s]);
  if (t.signupPrefix[s]) keys.push('n' + t.signupPrefix[s]);
  for (let i = s * PREFIX_SLOTS; i < (s + 1) * PREFIX_SLOTS; i++) {
    const p = t.pfx[i];
    if (p && t.pfxCnt[i] >= 2 && p !== t.signupPrefix[s]) keys.push('n' + p);
  }
  // A band key repeated in at least 10% of the account's requests is one of its templates.
  const minCount = Math.max(3, Math.ceil(n * 0.1));
  for (let i = s * TEMPLATE_SLOTS; i < (s + 1) * TEMPLATE_SLOTS; i++) if (t.tCnt[i] >= minCount) keys.push('t' + t.tKey[i]);
  return keys;
}

/** 52-bit hash of a key string (two 26-bit FNV-1a halves): collisions are negligible at millions of keys. */
function keyHash(k: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193 + 2);
  }
  return (a & 0x3ffffff) * 0x4000000 + (b >>> 6);
}

function pairHash(x: number, y: number): number {
  const xl = x % 0x4000000;
  const xh = Math.floor(x / 0x4000000);
  const yl = y % 0x4000000;
  const yh = Math.floor(y / 0x4000000);
  const lo = (Math.imul(xl ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(yl, 0xc2b2ae35) ^ yh) >>> 6;
  const hi = (Math.imul(xh ^ 0x27d4eb2f, 0x165667b1) ^ Math.imul(yh, 0xd3a2646c) ^ yl) & 0x3ffffff;
  return hi * 0x4000000 + lo;
}

/** Keys per account taken into linking (payment, client, 3 prefixes at most, templates): composites ≤ C(8,2). */
export const MAX_KEYS_PER_ACCOUNT = 8;

export function analyse(t: AccountTable, cfg: AnalysisConfig): Analysis {
  let suspects: number[] = [];
  const feats = new Map<number, AccountFeatures>();
  for (const s of t.slots()) {
    const f = accountFeatures(t, s, cfg.minRequests);
    if (f.suspicion >= cfg.linkThreshold) {
      feats.set(s, f);
      suspects.push(s);
    }
  }
  // Bound the transient memory of one analysis: keep the most suspicious `maxSuspects`.
  if (suspects.length > cfg.maxSuspects) {
    suspects.sort((a, b) => feats.get(b)!.suspicion - feats.get(a)!.suspicion);
    for (const s of suspects.slice(cfg.maxSuspects)) feats.delete(s);
    suspects = suspects.slice(0, cfg.maxSuspects);
  }
  // Union suspects sharing evidence. A payment card or client fingerprint is specific enough alone; any other
  // key (a network prefix, a prompt band key) links only together with a second shared key, via composite
  // keys. One common phrase or one NAT prefix therefore never chains two unrelated groups together.
  const uf = new UnionFind(suspects.length);
  const firstHolder = new Map<number, number>();
  const families = new Uint8Array(suspects.length);
  const strong = new Uint8Array(suspects.length);
  const hashes: number[] = [];
  const fams: number[] = [];
  suspects.forEach((s, i) => {
    const keys = keysOf(t, s, t.req[s]).slice(0, MAX_KEYS_PER_ACCOUNT);
    hashes.length = fams.length = 0;
    for (const k of keys) {
      hashes.push(keyHash(k));
      fams.push(FAMILY[k[0] as keyof typeof FAMILY]);
    }
    const link = (h: number, fam: number, isStrong: boolean) => {
      const holder = firstHolder.get(h);
      if (holder === undefined) {
        firstHolder.set(h, i);
        return;
      }
      uf.union(i, holder);
      families[i] |= fam;
      families[holder] |= fam;
      if (isStrong) strong[i] = strong[holder] = 1;
    };
    for (let a = 0; a < hashes.length; a++) {
      const fa = fams[a];
      if (fa === FAMILY.p || fa === FAMILY.c) link(hashes[a], fa, fa === FAMILY.p);
      for (let b = a + 1; b < hashes.length; b++) {
        const [x, y] = hashes[a] < hashes[b] ? [hashes[a], hashes[b]] : [hashes[b], hashes[a]];
        link(pairHash(x, y), fa | fams[b], true);
      }
    }
  });
  const comps = new Map<number, number[]>();
  for (let i = 0; i < suspects.length; i++) {
    const r = uf.find(i);
    let c = comps.get(r);
    if (!c) comps.set(r, (c = []));
    c.push(i);
  }
  const rings: Ring[] = [];
  const members = new Map<string, MemberInfo>();
  for (const comp of comps.values()) {
    if (comp.length < cfg.minRingSize) continue;
    const ring = scoreRing(t, cfg, comp.map((i) => suspects[i]), comp.map((i) => families[i]), comp.map((i) => strong[i]), feats);
    rings.push(ring.ring);
    for (const i of comp) {
      const s = suspects[i];
      members.set(t.ids[s]!, {
        ringId: ring.ring.id,
        ringScore: ring.ring.score,
        suspicion: feats.get(s)!.suspicion,
        strong: strong[i] === 1,
        kyc: t.kyc[s],
      });
    }
  }
  rings.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  if (rings.length > cfg.maxRings) {
    for (const r of rings.slice(cfg.maxRings)) for (const m of r.members) members.delete(m);
    rings.length = cfg.maxRings;
  }
  return { rings, members, suspects: suspects.length };
}

function scoreRing(
  t: AccountTable,
  cfg: AnalysisConfig,
  slots: number[],
  fams: number[],
  strong: number[],
  feats: Map<number, AccountFeatures>,
): { ring: Ring } {
  const n = slots.length;
  const ids = slots.map((s) => t.ids[s]!).sort();
  const fs = slots.map((s) => feats.get(s)!);
  const mean = (f: (x: AccountFeatures) => number) => fs.reduce((a, x) => a + f(x), 0) / n;
  const behaviour = mean((x) => x.suspicion);
  const famFrac = (bit: number) => fams.filter((f) => (f & bit) !== 0).length / n;
  // Link density: strongly linked members count fully, members linked by one fingerprint alone half.
  const linkStrength = fams.reduce((a, f, i) => a + (strong[i] ? 1 : f !== 0 ? 0.5 : 0), 0) / n;
  // Sign-up burst: the largest share of members created within one window.
  const created = slots.map((s) => t.createdAt[s]).filter((c) => !Number.isNaN(c)).sort((a, b) => a - b);
  let burst = 0;
  for (let i = 0, j = 0; j < created.length; j++) {
    while (created[j] - created[i] > cfg.signupBurstWindowMs) i++;
    burst = Math.max(burst, (j - i + 1) / n);
  }
  // Synchronised activity: mean cosine between each member's hour-of-day profile and the ring's.
  const agg = new Float64Array(HOURS);
  for (const s of slots) for (let h = 0; h < HOURS; h++) agg[h] += t.hours[s * HOURS + h] / Math.max(1, t.req[s]);
  const aggNorm = Math.hypot(...agg);
  let sync = 0;
  for (const s of slots) {
    let dot = 0;
    let nn = 0;
    for (let h = 0; h < HOURS; h++) {
      const v = t.hours[s * HOURS + h];
      dot += v * agg[h];
      nn += v * v;
    }
    sync += nn > 0 && aggNorm > 0 ? dot / (Math.sqrt(nn) * aggNorm) : 0;
  }
  sync /= n;
  const sizeFactor = Math.min(1, Math.log(n) / Math.log(50));
  // Distillation needs scale: a ring that harvested little output per member (a classroom: ~10 short answers
  // each) is not worth acting on even if its members look alike. 2k output tokens/member → 0, 20k → 1.
  const meanOut = slots.reduce((a, s) => a + t.outTok[s], 0) / n;
  const harvest = Math.min(1, Math.max(0, Math.log10(meanOut / cfg.harvestFloorTokens)));
  let score = sizeFactor * (0.2 + 0.8 * harvest) * (0.5 * behaviour + 0.25 * linkStrength + 0.15 * burst + 0.1 * sync);
  const orgs = new Set(slots.map((s) => t.org[s] ?? ''));
  const org = orgs.size === 1 ? [...orgs][0] : '';
  const verified = org !== '' && slots.some((s) => (t.kyc[s] ?? '').startsWith('verified'));
  if (verified) score *= cfg.explainedOrgDamping;
  score = Math.round(score * 1000) / 1000;

  const examples = (pick: (s: number) => string | undefined) => {
    const out: string[] = [];
    for (const s of slots) {
      const id = pick(s);
      if (id) out.push(id);
      if (out.length === 3) break;
    }
    return out;
  };
  const ex = examples((s) => t.exFirst[s]);
  const evidence: RingEvidence[] = [];
  const add = (signal: SignalName, strength: number, detail: string, exIds = ex) => {
    if (strength > 0.05) evidence.push({ signal, strength: Math.round(strength * 1000) / 1000, detail, exampleRequestIds: exIds });
  };
  add('shared_payment', famFrac(FAMILY.p), 'share of members sharing a payment fingerprint with another member');
  add('shared_client_fingerprint', famFrac(FAMILY.c), 'share of members sharing a client fingerprint');
  add('shared_network_prefix', famFrac(FAMILY.n), 'share of members sharing a network prefix');
  add('shared_prompt_template', famFrac(FAMILY.t), 'share of members repeating a prompt template (LSH band) seen in another member');
  add('reasoning_trace_requests', mean((x) => x.reasoningFraction), 'mean share of requests asking for reasoning traces', examples((s) => t.exReason[s]));
  add('high_output_input_ratio', Math.min(1, mean((x) => x.outputInputRatio) / 8), `mean output/input token ratio ${mean((x) => x.outputInputRatio).toFixed(2)}`);
  add('templated_task_coverage', mean((x) => x.templateConcentration), 'mean template concentration of member traffic');
  add('machine_timing', mean((x) => x.machineTiming), 'regularity of request gaps');
  add('round_the_clock_activity', mean((x) => x.roundTheClock), 'hour-of-day entropy above diurnal human levels');
  add('high_volume', Math.max(harvest, mean((x) => x.volume)), `mean ${Math.round(meanOut)} output tokens per member`);
  add('signup_burst', burst, `largest share of members created within ${Math.round(cfg.signupBurstWindowMs / 3_600_000)} h`);
  add('synchronised_activity', sync, 'mean cosine of member hour-of-day profiles to the ring profile');
  evidence.sort((a, b) => b.strength - a.strength);
  let firstSeen = Infinity;
  let lastSeen = 0;
  for (const s of slots) {
    if (t.first[s] < firstSeen) firstSeen = t.first[s];
    if (t.last[s] > lastSeen) lastSeen = t.last[s];
  }
  return {
    ring: { id: 'ring-' + ids[0], members: ids, score, evidence, firstSeen, lastSeen, explainedByOrg: verified ? org : null },
  };
}
