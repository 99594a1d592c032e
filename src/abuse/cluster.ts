/**
 * Ring analysis: a pure function of the account table.
 *
 * 1. Suspects: accounts whose own behaviour (harvest intensity relative to the population, see features.ts)
 *    reaches `linkThreshold`. Only suspects are linked, so benign crowds never chain through benign members.
 * 2. Key purity ("common context is not a link"): every linking key — card, device, organisation, network
 *    prefix, prompt template band, prompt structure, user agent — is weighted by the share of its holders that
 *    are suspects. A public system prompt, a class assignment, a campus NAT, a grant card or an enterprise's
 *    office egress is held mostly by ordinary accounts and links nobody; a ring's proxies, cards and template
 *    are held by the ring. Counts are exact: keys of suspects are indexed, then every account is checked
 *    against that index.
 * 3. Pairwise evidence on candidate pairs (blocked by shared keys and by sign-up / first-seen day): card,
 *    device, organisation, shared prefixes (residential proxies rotate over many /24s, each reused by several
 *    members), template bands, structure, user agent — each × purity — plus sign-up cohort, synchronised start,
 *    diurnal shape and collective coverage (a structure used mostly by suspects whose items barely overlap).
 *    Pairs whose summed weight reaches `linkScore` are joined (union–find). No single weak signal can reach it;
 *    no shared key is required. Then attachment: loners and fragments are compared with each large ring whole.
 * 4. Each component of ≥ `minRingSize` is scored from member behaviour, link strength, collective coverage
 *    (members share a prompt structure but ask disjoint items — a sweep, not a class re-asking one assignment or
 *    a lab re-running one benchmark), sign-up cohort and synchronised activity, scaled by size and harvest, and
 *    discounted by the share of its prompt items that unrelated accounts also send (public benchmarks). A ring
 *    inside one verified organisation gets a lower prior (`explainedOrgDamping`), never a cap.
 */
import { AccountTable, HOURS, ITEM_K, PFX_K, TEMPLATE_SLOTS, strHash } from './account-table.ts';
import { accountFeatures, populationStats, topShape, type AccountFeatures } from './features.ts';
import type { Ring, RingEvidence, RingLink, SignalName } from './types.ts';

export interface AnalysisConfig {
  minRequests: number;
  linkThreshold: number;
  minRingSize: number;
  signupBurstWindowMs: number;
  /** Prior multiplier for a ring whose members are all one KYC-verified organisation (lowers, never caps). */
  explainedOrgDamping: number;
  maxRings: number;
  /** At most this many suspects are linked per analysis (the most suspicious): bounds analysis memory. */
  maxSuspects: number;
  /** Mean output tokens per member below which a ring's score is scaled down (10× this counts fully). */
  harvestFloorTokens: number;
  /** Summed pairwise evidence needed to link two suspects. */
  linkScore: number;
}

export interface MemberInfo {
  ringId: string;
  ringScore: number;
  suspicion: number;
  /** Linked by pairwise evidence reaching linkScore (always true for members of a v2 ring). */
  strong: boolean;
  kyc: string | undefined;
  /** The ring is one verified organisation behaving like a harvesting ring: escalate to human review. */
  review?: boolean;
}

export interface Analysis {
  rings: Ring[];
  members: Map<string, MemberInfo>;
  suspects: number;
}

const DAY = 86_400_000;
/** Candidate pairs per block member: each suspect is compared with the next PAIRS_PER_BLOCK holders of each key. */
const PAIRS_PER_BLOCK = 8;
/** Suspects in components smaller than this are offered to the rings at least this large (attachment). */
const ATTACH_TO_SIZE = 10;
/** Keys per suspect: card, device, org, UA, shape, sign-up prefix, PFX_K prefixes, TEMPLATE_SLOTS bands, ITEM_K items. */
export const KEYS_PER_SUSPECT = 6 + PFX_K + TEMPLATE_SLOTS + ITEM_K;

// Key families (top bits of the numeric key).
const F_PAY = 1, F_DEV = 2, F_ORG = 3, F_UA = 4, F_SHAPE = 5, F_PFX = 6, F_TPL = 7, F_ITEM = 8, F_CREATED = 9, F_FIRST = 10;
const TWO32 = 4294967296;
const key = (fam: number, h: number) => fam * TWO32 + (h >>> 0);

/** Channel weights of the pairwise evidence (before purity). */
export const LINK_WEIGHTS = {
  shared_payment: 1.0,
  shared_client_fingerprint: 0.8,
  shared_organisation: 0.5,
  shared_network_prefix: 0.45,
  shared_prompt_template: 0.35,
  shared_prompt_structure: 0.3,
  shared_user_agent: 0.25,
  signup_cohort: 0.3,
  synchronised_start: 0.2,
  diurnal_shape: 0.15,
  collective_coverage: 0.5,
} as const;
type Channel = keyof typeof LINK_WEIGHTS;
const CHANNELS = Object.keys(LINK_WEIGHTS) as Channel[];

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

/** Every identity/content key of an account (the same keys whether or not it is a suspect). */
function accountKeys(t: AccountTable, s: number, out: number[]): void {
  out.length = 0;
  if (t.payment[s]) out.push(key(F_PAY, strHash(t.payment[s]!)));
  if (t.client[s]) out.push(key(F_DEV, strHash(t.client[s]!)));
  if (t.org[s]) out.push(key(F_ORG, strHash(t.org[s]!)));
  if (t.ua[s]) out.push(key(F_UA, t.ua[s]));
  const sh = topShape(t, s);
  if (sh !== -1) out.push(key(F_SHAPE, sh));
  if (t.signupPrefix[s]) out.push(key(F_PFX, strHash(t.signupPrefix[s]!)));
  for (let i = s * PFX_K; i < (s + 1) * PFX_K; i++) if (t.pfxBot[i] !== 0xffffffff) out.push(key(F_PFX, t.pfxBot[i]));
  // A band key repeated in at least 10% of the account's requests is one of its templates.
  const minCount = Math.max(3, Math.ceil(t.req[s] * 0.1));
  for (let i = s * TEMPLATE_SLOTS; i < (s + 1) * TEMPLATE_SLOTS; i++) if (t.tCnt[i] >= minCount) out.push(key(F_TPL, t.tKey[i]));
  for (let i = s * ITEM_K; i < (s + 1) * ITEM_K; i++) if (t.itemBot[i] !== 0xffffffff) out.push(key(F_ITEM, t.itemBot[i]));
}

interface Suspect {
  slot: number;
  f: AccountFeatures;
  keys: number[];
  hours: Float64Array;
  /** Main prompt structure key (topShape), or -1. */
  shape: number;
}

export function analyse(t: AccountTable, cfg: AnalysisConfig): Analysis {
  const pop = populationStats(t, cfg.minRequests);
  const sus: Suspect[] = [];
  for (const s of t.slots()) {
    const f = accountFeatures(t, s, cfg.minRequests, pop);
    if (f.suspicion >= cfg.linkThreshold) sus.push({ slot: s, f, keys: [], hours: new Float64Array(0), shape: topShape(t, s) });
  }
  if (sus.length > cfg.maxSuspects) {
    sus.sort((a, b) => b.f.suspicion - a.f.suspicion || a.slot - b.slot);
    sus.length = cfg.maxSuspects;
  }
  // Order by account id, not slot: slots are renumbered by a snapshot restore, and the analysis must not change.
  const idOf = (x: Suspect) => t.ids[x.slot]!;
  sus.sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const isSuspect = new Uint8Array(t.capacity);
  for (const x of sus) isSuspect[x.slot] = 1;

  // Key purity: holders among suspects (exact) and among everyone (exact for keys some suspect holds).
  const index = new Map<number, number>();
  const susCount: number[] = [];
  const allCount: number[] = [];
  const scratch: number[] = [];
  for (const x of sus) {
    accountKeys(t, x.slot, scratch);
    x.keys = scratch.slice();
    for (const k of x.keys) {
      let i = index.get(k);
      if (i === undefined) {
        index.set(k, (i = susCount.length));
        susCount.push(0);
        allCount.push(0);
      }
      susCount[i]++;
      allCount[i]++;
    }
    const hv = new Float64Array(HOURS);
    let norm = 0;
    for (let h = 0; h < HOURS; h++) {
      hv[h] = t.hours[x.slot * HOURS + h];
      norm += hv[h] * hv[h];
    }
    norm = Math.sqrt(norm) || 1;
    for (let h = 0; h < HOURS; h++) hv[h] /= norm;
    x.hours = hv;
  }
  for (const s of t.slots()) {
    if (isSuspect[s]) continue;
    accountKeys(t, s, scratch);
    for (const k of scratch) {
      const i = index.get(k);
      if (i !== undefined) allCount[i]++;
    }
  }
  const purity = (k: number) => {
    const i = index.get(k);
    return i === undefined ? 0 : susCount[i] / allCount[i];
  };
  const coverage = coverageByStructure(t, sus, purity);

  // Pairwise evidence between two suspects, per channel (each already × purity where it applies).
  const ch = new Float64Array(CHANNELS.length);
  const evidence = (a: Suspect, b: Suspect): number => {
    ch.fill(0);
    const ka = a.keys;
    const kb = b.keys;
    let pfx = 0;
    let tpl = 0;
    for (const k of ka) {
      const fam = Math.floor(k / TWO32);
      if (fam === F_ITEM || !kb.includes(k)) continue;
      const p = purity(k);
      switch (fam) {
        case F_PAY: ch[0] = LINK_WEIGHTS.shared_payment * p; break;
        case F_DEV: ch[1] = LINK_WEIGHTS.shared_client_fingerprint * p; break;
        case F_ORG: ch[2] = LINK_WEIGHTS.shared_organisation * p; break;
        case F_PFX: pfx += LINK_WEIGHTS.shared_network_prefix * p; break;
        case F_TPL: tpl += LINK_WEIGHTS.shared_prompt_template * p; break;
        case F_SHAPE: ch[5] = LINK_WEIGHTS.shared_prompt_structure * p; break;
        case F_UA: ch[6] = LINK_WEIGHTS.shared_user_agent * p; break;
      }
    }
    ch[3] = Math.min(1, pfx);
    ch[4] = Math.min(0.7, tpl);
    const ca = t.createdAt[a.slot];
    const cb = t.createdAt[b.slot];
    if (!Number.isNaN(ca) && !Number.isNaN(cb)) {
      const d = Math.abs(ca - cb);
      ch[7] = d <= DAY ? LINK_WEIGHTS.signup_cohort : d <= 3 * DAY ? LINK_WEIGHTS.signup_cohort / 2 : 0;
    }
    if (Math.abs(t.first[a.slot] - t.first[b.slot]) <= DAY / 2) ch[8] = LINK_WEIGHTS.synchronised_start;
    let dot = 0;
    for (let h = 0; h < HOURS; h++) dot += a.hours[h] * b.hours[h];
    if (dot >= 0.85) ch[9] = LINK_WEIGHTS.diurnal_shape;
    if (a.shape !== -1 && a.shape === b.shape) ch[10] = LINK_WEIGHTS.collective_coverage * (coverage.get(a.shape) ?? 0);
    let sum = 0;
    for (let i = 0; i < ch.length; i++) sum += ch[i];
    return sum;
  };

  // Candidate pairs: holders of one key (any family but items), and accounts created / first seen the same day.
  const blocks = new Map<number, number[]>();
  const block = (k: number, i: number) => {
    let l = blocks.get(k);
    if (!l) blocks.set(k, (l = []));
    l.push(i);
  };
  sus.forEach((x, i) => {
    for (const k of x.keys) if (Math.floor(k / TWO32) !== F_ITEM) block(k, i);
    const c = t.createdAt[x.slot];
    if (!Number.isNaN(c)) {
      block(key(F_CREATED, Math.floor(c / DAY)), i);
      block(key(F_CREATED, Math.floor(c / DAY + 0.5) + 0x40000000), i);
    }
    block(key(F_FIRST, Math.floor(t.first[x.slot] / DAY)), i);
  });
  const uf = new UnionFind(sus.length);
  const edgeSum = new Float64Array(sus.length * CHANNELS.length);
  const edgeCount = new Uint32Array(sus.length);
  for (const list of blocks.values()) {
    if (list.length < 2) continue;
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b <= Math.min(list.length - 1, a + PAIRS_PER_BLOCK); b++) {
        const i = list[a];
        const j = list[b];
        if (uf.find(i) === uf.find(j)) continue;
        const w = evidence(sus[i], sus[j]);
        if (w < cfg.linkScore) continue;
        uf.union(i, j);
        // Spanning-edge evidence, kept per member for the ring's explanation.
        for (const m of [i, j]) {
          edgeCount[m]++;
          for (let c = 0; c < CHANNELS.length; c++) edgeSum[m * CHANNELS.length + c] += ch[c];
        }
      }
    }
  }

  // Attachment: a suspect outside every large ring (alone or in a fragment) is compared with each candidate ring
  // as a whole (keys held by any member, the ring's diurnal profile and start window). A careful ring's members each share little with any
  // one other member — a proxy /24 here, a structure there — but much with the ring.
  attach(t, cfg, sus, uf, purity, coverage, edgeSum, edgeCount);

  const comps = new Map<number, number[]>();
  for (let i = 0; i < sus.length; i++) {
    const r = uf.find(i);
    let c = comps.get(r);
    if (!c) comps.set(r, (c = []));
    c.push(i);
  }
  const itemHolders = (k: number) => {
    const i = index.get(k);
    return i === undefined ? 0 : allCount[i];
  };
  const rings: Ring[] = [];
  const members = new Map<string, MemberInfo>();
  const ringMembers = new Map<string, number[]>();
  for (const comp of comps.values()) {
    if (comp.length < cfg.minRingSize) continue;
    const ring = scoreRing(t, cfg, comp.map((i) => sus[i]), comp.map((i) => [edgeCount[i], edgeSum.subarray(i * CHANNELS.length, (i + 1) * CHANNELS.length)] as const), itemHolders);
    rings.push(ring);
    ringMembers.set(ring.id, comp);
  }
  rings.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  if (rings.length > cfg.maxRings) rings.length = cfg.maxRings;
  for (const ring of rings) {
    for (const i of ringMembers.get(ring.id)!) {
      const s = sus[i].slot;
      members.set(t.ids[s]!, { ringId: ring.id, ringScore: ring.score, suspicion: sus[i].f.suspicion, strong: true, kyc: t.kyc[s], review: ring.review === true });
    }
  }
  return { rings, members, suspects: sus.length };
}

/**
 * Collective coverage per prompt structure: suspects whose main structure is S, if S is used mostly by suspects
 * (purity), by at least COVERAGE_MIN_GROUP of them, whose sampled items barely overlap and who rarely repeat an
 * item — many accounts each asking new things in one systematic form, together sweeping a task space. Returns
 * S → strength in [0,1] (only groups that qualify). A class re-asking one assignment or labs re-running one
 * benchmark overlap; a structure most ordinary users also write is impure.
 */
const COVERAGE_MIN_GROUP = 10;
function coverageByStructure(t: AccountTable, sus: readonly Suspect[], purity: (k: number) => number): Map<number, number> {
  const groups = new Map<number, Suspect[]>();
  for (const x of sus) {
    if (x.shape === -1) continue;
    let g = groups.get(x.shape);
    if (!g) groups.set(x.shape, (g = []));
    g.push(x);
  }
  const out = new Map<number, number>();
  for (const [shape, g] of groups) {
    if (g.length < COVERAGE_MIN_GROUP) continue;
    const p = purity(key(F_SHAPE, shape));
    if (p < 0.5) continue;
    const items = new Set<number>();
    let sampled = 0;
    let diversity = 0;
    for (const x of g) {
      diversity += x.f.itemDiversity;
      for (let i = x.slot * ITEM_K; i < (x.slot + 1) * ITEM_K; i++) {
        if (t.itemBot[i] === 0xffffffff) continue;
        sampled++;
        items.add(t.itemBot[i]);
      }
    }
    const disjoint = sampled > 0 ? items.size / sampled : 0;
    const strength = p * Math.max(0, (disjoint - 0.8) / 0.2) * (diversity / g.length);
    if (strength > 0.2) out.set(shape, Math.min(1, strength));
  }
  return out;
}

function attach(
  t: AccountTable,
  cfg: AnalysisConfig,
  sus: Suspect[],
  uf: UnionFind,
  purity: (k: number) => number,
  coverage: ReadonlyMap<number, number>,
  edgeSum: Float64Array,
  edgeCount: Uint32Array,
): void {
  const size = new Map<number, number>();
  for (let i = 0; i < sus.length; i++) {
    const r = uf.find(i);
    size.set(r, (size.get(r) ?? 0) + 1);
  }
  // Fixed before any attachment: unions below can change a ring's root, so roots are not looked up again.
  const inRing = new Uint8Array(sus.length);
  for (let i = 0; i < sus.length; i++) inRing[i] = size.get(uf.find(i))! >= ATTACH_TO_SIZE ? 1 : 0;
  // Keys (no items) held by members of components already at ring size: key → component → holders.
  const held = new Map<number, Map<number, number>>();
  const profile = new Map<number, { hours: Float64Array; firsts: number[] }>();
  for (let i = 0; i < sus.length; i++) {
    if (!inRing[i]) continue;
    const r = uf.find(i);
    for (const k of sus[i].keys) {
      if (Math.floor(k / TWO32) === F_ITEM) continue;
      let m = held.get(k);
      if (!m) held.set(k, (m = new Map()));
      m.set(r, (m.get(r) ?? 0) + 1);
    }
    let p = profile.get(r);
    if (!p) profile.set(r, (p = { hours: new Float64Array(HOURS), firsts: [] }));
    for (let h = 0; h < HOURS; h++) p.hours[h] += sus[i].hours[h];
    p.firsts.push(t.first[sus[i].slot]);
  }
  if (profile.size === 0) return;
  for (const p of profile.values()) {
    const norm = Math.hypot(...p.hours) || 1;
    for (let h = 0; h < HOURS; h++) p.hours[h] /= norm;
    p.firsts.sort((a, b) => a - b);
  }
  const C = CHANNELS.length;
  const ch = new Float64Array(C);
  const bestCh = new Float64Array(C);
  for (let i = 0; i < sus.length; i++) {
    if (inRing[i]) continue;
    const x = sus[i];
    const cands = new Map<number, number>();
    for (const k of x.keys) {
      const m = held.get(k);
      if (m) for (const r of m.keys()) cands.set(r, 1);
    }
    let best = -1;
    let bestW = 0;
    for (const r of cands.keys()) {
      ch.fill(0);
      let pfx = 0;
      let tpl = 0;
      for (const k of x.keys) {
        const n = held.get(k)?.get(r);
        if (!n) continue;
        const p = purity(k);
        switch (Math.floor(k / TWO32)) {
          case F_PAY: ch[0] = LINK_WEIGHTS.shared_payment * p; break;
          case F_DEV: ch[1] = LINK_WEIGHTS.shared_client_fingerprint * p; break;
          case F_ORG: ch[2] = LINK_WEIGHTS.shared_organisation * p; break;
          case F_PFX: pfx += LINK_WEIGHTS.shared_network_prefix * p; break;
          case F_TPL: tpl += LINK_WEIGHTS.shared_prompt_template * p; break;
          case F_SHAPE:
            ch[5] = LINK_WEIGHTS.shared_prompt_structure * p;
            if (x.shape !== -1 && k === key(F_SHAPE, x.shape)) ch[10] = LINK_WEIGHTS.collective_coverage * (coverage.get(x.shape) ?? 0);
            break;
          case F_UA: ch[6] = LINK_WEIGHTS.shared_user_agent * p; break;
        }
      }
      ch[3] = Math.min(1, pfx);
      ch[4] = Math.min(0.7, tpl);
      const prof = profile.get(r)!;
      const f = prof.firsts;
      const first = t.first[x.slot];
      if (first >= f[Math.floor(f.length * 0.1)] && first <= f[Math.floor(f.length * 0.9)]) ch[8] = LINK_WEIGHTS.synchronised_start;
      let dot = 0;
      for (let h = 0; h < HOURS; h++) dot += x.hours[h] * prof.hours[h];
      if (dot >= 0.85) ch[9] = LINK_WEIGHTS.diurnal_shape;
      let w = 0;
      for (let c = 0; c < C; c++) w += ch[c];
      if (w > bestW) {
        bestW = w;
        best = r;
        bestCh.set(ch);
      }
    }
    if (best >= 0 && bestW >= cfg.linkScore) {
      uf.union(i, best);
      edgeCount[i]++;
      for (let c = 0; c < C; c++) edgeSum[i * C + c] += bestCh[c];
    }
  }
}

function scoreRing(
  t: AccountTable,
  cfg: AnalysisConfig,
  ms: Suspect[],
  edges: (readonly [number, Float64Array])[],
  itemHolders: (k: number) => number,
): Ring {
  const n = ms.length;
  const slots = ms.map((m) => m.slot);
  const ids = slots.map((s) => t.ids[s]!).sort();
  const mean = (f: (x: AccountFeatures) => number) => ms.reduce((a, x) => a + f(x.f), 0) / n;
  const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
  const behaviour = clip(mean((x) => x.suspicion) / 0.7);

  // Link strength and per-channel weights, averaged over the spanning edges that joined the ring.
  const chan = new Float64Array(CHANNELS.length);
  let edgeN = 0;
  for (const [c, sums] of edges) {
    edgeN += c;
    for (let k = 0; k < CHANNELS.length; k++) chan[k] += sums[k];
  }
  let edgeTotal = 0;
  for (let k = 0; k < CHANNELS.length; k++) {
    chan[k] = edgeN > 0 ? chan[k] / edgeN : 0;
    edgeTotal += chan[k];
  }
  const linkStrength = clip(edgeTotal / (2 * cfg.linkScore));

  // Sign-up cohort: the largest share of members created within one window.
  const created = slots.map((s) => t.createdAt[s]).filter((c) => !Number.isNaN(c)).sort((a, b) => a - b);
  let burst = 0;
  for (let i = 0, j = 0; j < created.length; j++) {
    while (created[j] - created[i] > cfg.signupBurstWindowMs) i++;
    burst = Math.max(burst, (j - i + 1) / n);
  }
  // Synchronised activity: mean cosine of member hour profiles to the ring's, and the share starting in one week.
  const agg = new Float64Array(HOURS);
  for (const m of ms) for (let h = 0; h < HOURS; h++) agg[h] += m.hours[h];
  const aggNorm = Math.hypot(...agg) || 1;
  let cos = 0;
  for (const m of ms) {
    let d = 0;
    for (let h = 0; h < HOURS; h++) d += m.hours[h] * agg[h];
    cos += d / aggNorm;
  }
  cos /= n;
  const firsts = slots.map((s) => t.first[s]).sort((a, b) => a - b);
  let startShare = 0;
  for (let i = 0, j = 0; j < firsts.length; j++) {
    while (firsts[j] - firsts[i] > 7 * DAY) i++;
    startShare = Math.max(startShare, (j - i + 1) / n);
  }
  const sync = 0.5 * cos + 0.5 * startShare;

  // Collective coverage: members share one prompt structure, yet their sampled items barely overlap.
  const shapes = new Map<number, number>();
  for (const s of slots) {
    const sh = topShape(t, s);
    if (sh !== -1) shapes.set(sh, (shapes.get(sh) ?? 0) + 1);
  }
  const structureShare = shapes.size ? Math.max(...shapes.values()) / n : 0;
  const items = new Map<number, number>();
  let sampled = 0;
  for (const s of slots) {
    for (let i = s * ITEM_K; i < (s + 1) * ITEM_K; i++) {
      const h = t.itemBot[i];
      if (h === 0xffffffff) continue;
      sampled++;
      items.set(h, (items.get(h) ?? 0) + 1);
    }
  }
  const overlap = sampled > 0 ? 1 - items.size / sampled : 0;
  const coverage = structureShare * (1 - overlap) * mean((x) => x.itemDiversity);
  // Public items: sampled items that accounts outside the ring send too (a public benchmark, a shared prompt).
  let publicItems = 0;
  for (const [h, inRing] of items) if (itemHolders(key(F_ITEM, h)) > inRing) publicItems += inRing;
  const publicShare = sampled > 0 ? publicItems / sampled : 0;

  const sizeFactor = Math.min(1, Math.log(n) / Math.log(50));
  const meanOut = slots.reduce((a, s) => a + t.outTok[s], 0) / n;
  const harvest = clip(Math.log10(meanOut / cfg.harvestFloorTokens));
  let score = sizeFactor * (0.2 + 0.8 * harvest) * (0.35 * behaviour + 0.25 * linkStrength + 0.2 * coverage + 0.1 * burst + 0.1 * sync) * (1 - 0.7 * publicShare);
  const orgs = new Set(slots.map((s) => t.org[s] ?? ''));
  const org = orgs.size === 1 ? [...orgs][0] : '';
  const verified = org !== '' && slots.every((s) => (t.kyc[s] ?? '').startsWith('verified'));
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
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const add = (signal: SignalName, strength: number, detail: string, exIds = ex) => {
    if (strength > 0.05) evidence.push({ signal, strength: r3(strength), detail, exampleRequestIds: exIds });
  };
  add('high_output_input_ratio', mean((x) => x.longForm), `mean share of long-form answers (normalised); mean output/input ratio ${mean((x) => x.outputInputRatio).toFixed(2)}`);
  add('high_volume', harvest, `mean ${Math.round(meanOut)} output tokens per member`);
  add('collective_coverage', coverage, `${Math.round(structureShare * 100)}% of members share one prompt structure; sampled items overlap ${Math.round(overlap * 100)}%`);
  add('signup_burst', burst, `largest share of members created within ${Math.round(cfg.signupBurstWindowMs / 3_600_000)} h`);
  add('synchronised_activity', sync, `hour-profile cosine ${cos.toFixed(2)}; ${Math.round(startShare * 100)}% started within one week`);
  add('proxy_rotation', mean((x) => x.rotation), 'mean network-prefix rotation of members');
  add('reasoning_trace_requests', mean((x) => x.reasoningFraction), 'mean share of requests asking for reasoning traces', examples((s) => t.exReason[s]));
  add('templated_task_coverage', mean((x) => x.templateConcentration), 'mean template concentration of member traffic');
  add('machine_timing', mean((x) => x.machineTiming), 'regularity of request gaps');
  add('round_the_clock_activity', mean((x) => x.roundTheClock), 'hour-of-day entropy above diurnal human levels');
  if (publicShare > 0.05) add('public_items', publicShare, 'share of sampled prompt items also sent by accounts outside the ring (discounts the score)');
  evidence.sort((a, b) => b.strength - a.strength);
  const links: RingLink[] = CHANNELS.map((c, k) => ({ signal: c, weight: r3(chan[k]) })).filter((l) => l.weight > 0).sort((a, b) => b.weight - a.weight);
  for (const l of links) {
    if (l.signal.startsWith('shared_') && !evidence.some((e) => e.signal === l.signal)) add(l.signal as SignalName, clip(l.weight / LINK_WEIGHTS[l.signal as Channel]), `mean weight ${l.weight} per linking pair (after key purity)`);
  }

  let firstSeen = Infinity;
  let lastSeen = 0;
  for (const s of slots) {
    if (t.first[s] < firstSeen) firstSeen = t.first[s];
    if (t.last[s] > lastSeen) lastSeen = t.last[s];
  }
  // Timeline: per UTC day, members signed up, first active and last active (days with any, at most 90).
  const tl = new Map<number, { signedUp: number; started: number; lastActive: number }>();
  const at = (ms_: number) => {
    const d = Math.floor(ms_ / DAY);
    let e = tl.get(d);
    if (!e) tl.set(d, (e = { signedUp: 0, started: 0, lastActive: 0 }));
    return e;
  };
  for (const s of slots) {
    if (!Number.isNaN(t.createdAt[s])) at(t.createdAt[s]).signedUp++;
    at(t.first[s]).started++;
    at(t.last[s]).lastActive++;
  }
  const timeline = [...tl.entries()].sort((a, b) => a[0] - b[0]).slice(-90).map(([d, e]) => ({ day: new Date(d * DAY).toISOString().slice(0, 10), ...e }));
  return { id: 'ring-' + ids[0], members: ids, score, evidence, links, timeline, firstSeen, lastSeen, explainedByOrg: verified ? org : null, review: verified };
}
