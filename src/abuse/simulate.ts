/**
 * Deterministic traffic simulator for the detector: a benign population (heavy-tailed volumes, diurnal
 * human sessions) with hard negatives (power users, companies with templated automation behind one org
 * with verified KYC, corporate NAT, classrooms) plus one distillation ring whose stealth (0..1) spreads it
 * over more payment cards, client fingerprints and residential network prefixes, jitters and day-gates its
 * timing, paraphrases its templates, pads its prompts, asks for fewer reasoning traces and ages its accounts.
 *
 * Events are kept in compact typed arrays and materialised one at a time in time order, so a million-event
 * simulation costs ~50 MB rather than a million objects. Prompt text is generated, sketched with
 * `sketchPrompt` exactly as the gateway would, and discarded.
 */
import type { AbuseEvent, AccountMeta } from './types.ts';
import { asksForReasoning, sketchPrompt } from './sketch.ts';
import { mulberry32 } from '../core/random.ts';
import { grown, LabelledTraffic } from './traffic-table.ts';

export type Label = 'benign' | 'ring' | 'power-user' | 'automation' | 'corporate-nat' | 'classroom';
export const HARD_NEGATIVE_LABELS: readonly Label[] = ['power-user', 'automation', 'corporate-nat', 'classroom'];

export interface SimOptions {
  seed: number;
  benignAccounts: number;
  benignRequests: number;
  ringSize: number;
  ringRequestsPerAccount: number;
  stealth: number;
  /** Epoch ms of the first simulated day. */
  startTime: number;
  days: number;
  hardNegatives: boolean;
  /** Multiplies the number of hard-negative groups (100 power users, 20 companies, 10 NATs, 40 classrooms). */
  hardNegativeScale: number;
}

export const DEFAULT_SIM: SimOptions = {
  seed: 1,
  benignAccounts: 100_000,
  benignRequests: 1_000_000,
  ringSize: 2_500,
  ringRequestsPerAccount: 40,
  stealth: 0.5,
  startTime: Date.UTC(2026, 2, 1),
  days: 14,
  hardNegatives: true,
  hardNegativeScale: 1,
};

const DAY = 86_400_000;

/** mulberry32: small, fast, deterministic. */
export const rng: (seed: number) => () => number = mulberry32;

class Sim {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.r())) * Math.cos(2 * Math.PI * this.r());
  }
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  exp(mean: number): number {
    return -Math.log(1 - this.r()) * mean;
  }
}

const SYL = ['ka', 'lo', 'mi', 'ne', 'ra', 'to', 'vi', 'su', 'pe', 'da', 'zo', 'fu', 'hi', 'ba', 'go', 'te', 'ly', 'qu', 'xe', 'wa'];

function vocabulary(s: Sim, n: number): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    let w = '';
    const k = 2 + s.int(3);
    for (let i = 0; i < k; i++) w += s.pick(SYL);
    out.add(w);
  }
  return [...out];
}

const RING_TEMPLATES = [
  'You are an expert tutor. Solve the following problem step by step, showing every intermediate step and your full reasoning, then state the final answer clearly. Problem:',
  'Act as a senior software engineer. Write a complete, well commented solution for the task below and explain your reasoning for each design decision in detail. Task:',
  'Answer the question below as a domain expert would. Think step by step, show all the work, list the assumptions you make and justify the final answer. Question:',
];
/** Paraphrase table: word → alternatives. */
const SYNONYMS: Record<string, string[]> = {
  expert: ['specialist', 'master', 'professional'],
  solve: ['work', 'answer', 'tackle'],
  following: ['next', 'below', 'given'],
  problem: ['exercise', 'question', 'puzzle'],
  showing: ['including', 'giving', 'writing'],
  every: ['each', 'all', 'any'],
  intermediate: ['interim', 'partial', 'middle'],
  full: ['complete', 'entire', 'whole'],
  final: ['last', 'ultimate', 'concluding'],
  clearly: ['plainly', 'precisely', 'explicitly'],
  complete: ['full', 'finished', 'working'],
  commented: ['documented', 'annotated', 'explained'],
  solution: ['program', 'implementation', 'answer'],
  task: ['assignment', 'job', 'exercise'],
  explain: ['describe', 'justify', 'detail'],
  design: ['architecture', 'structural', 'engineering'],
  decision: ['choice', 'call', 'option'],
  detail: ['depth', 'full', 'length'],
  question: ['query', 'prompt', 'item'],
  domain: ['field', 'subject', 'area'],
  would: ['might', 'could', 'should'],
  list: ['state', 'enumerate', 'name'],
  assumptions: ['premises', 'hypotheses', 'givens'],
  justify: ['defend', 'support', 'motivate'],
  senior: ['principal', 'staff', 'lead'],
  engineer: ['developer', 'programmer', 'coder'],
  tutor: ['teacher', 'instructor', 'coach'],
  answer: ['result', 'response', 'reply'],
  write: ['produce', 'draft', 'compose'],
  well: ['thoroughly', 'carefully', 'nicely'],
};

function paraphrase(s: Sim, template: string, p: number): string {
  if (p <= 0) return template;
  return template
    .split(' ')
    .map((w) => {
      const key = w.toLowerCase().replace(/[^a-z]/g, '');
      const alts = SYNONYMS[key];
      return alts && s.r() < p ? s.pick(alts) : w;
    })
    .join(' ');
}

const BROWSERS = ['Mozilla/5.0 Chrome/131', 'Mozilla/5.0 Firefox/133', 'Mozilla/5.0 Safari/18', 'Mozilla/5.0 Edg/131'];

/** Growable struct-of-arrays event store. */
class EventStore {
  n = 0;
  time = new Float64Array(1024);
  account = new Int32Array(1024);
  inTok = new Uint32Array(1024);
  outTok = new Uint32Array(1024);
  sketchHi = new Uint32Array(1024);
  sketchLo = new Uint32Array(1024);
  prefix = new Int32Array(1024);
  flags = new Uint8Array(1024);
  private grow(): void {
    this.time = grown(this.time);
    this.account = grown(this.account);
    this.inTok = grown(this.inTok);
    this.outTok = grown(this.outTok);
    this.sketchHi = grown(this.sketchHi);
    this.sketchLo = grown(this.sketchLo);
    this.prefix = grown(this.prefix);
    this.flags = grown(this.flags);
  }
  push(time: number, account: number, inTok: number, outTok: number, text: string, prefix: number): void {
    if (this.n === this.time.length) this.grow();
    const i = this.n++;
    this.time[i] = time;
    this.account[i] = account;
    this.inTok[i] = inTok;
    this.outTok[i] = outTok;
    const sk = sketchPrompt(text);
    this.sketchHi[i] = parseInt(sk.slice(0, 8), 16);
    this.sketchLo[i] = parseInt(sk.slice(8), 16);
    this.prefix[i] = prefix;
    this.flags[i] = asksForReasoning(text) ? 1 : 0;
  }
}

interface SimAccount {
  meta: AccountMeta;
  label: Label;
  org: string | null;
  ua: string;
}

export class Simulation extends LabelledTraffic<Label, SimAccount> {
  readonly store = new EventStore();

  constructor(readonly opts: SimOptions) {
    super();
  }

  sortByTime(): void {
    this.sortEvents();
  }

  protected materialise(i: number): AbuseEvent {
    const st = this.store;
    const acc = this.accounts[st.account[i]];
    const hex = (v: number) => v.toString(16).padStart(8, '0');
    return {
      requestId: `req-${this.opts.seed}-${i}`,
      time: st.time[i],
      keyId: `key-${acc.meta.accountId}`,
      accountId: acc.meta.accountId,
      orgId: acc.org,
      protocol: 'openai',
      stream: false,
      modelRequested: 'frontier-large',
      modelServed: 'frontier-large',
      outcome: 'ok',
      status: 200,
      inputTokens: st.inTok[i],
      outputTokens: st.outTok[i],
      usageEstimated: false,
      costUsd: 0,
      latencyMs: 800,
      promptSketch: hex(st.sketchHi[i]) + hex(st.sketchLo[i]),
      netPrefix: this.prefixes[st.prefix[i]],
      userAgent: acc.ua,
      reasoningRequested: st.flags[i] === 1,
    };
  }
}

function homePrefix(s: Sim): string {
  return `${10 + s.int(200)}.${s.int(256)}.${s.int(256)}.0/24`;
}

export function simulate(partial: Partial<SimOptions> = {}): Simulation {
  const o: SimOptions = { ...DEFAULT_SIM, ...partial };
  const s = new Sim(o.seed);
  const sim = new Simulation(o);
  const vocab = vocabulary(s, 6000);
  const zipfWord = () => vocab[Math.min(vocab.length - 1, Math.floor(s.r() * s.r() * vocab.length))];
  const words = (n: number) => {
    let t = '';
    for (let i = 0; i < n; i++) t += (i ? ' ' : '') + zipfWord();
    return t;
  };
  const T0 = o.startTime;
  const span = o.days * DAY;
  let serial = 0;
  const newAccount = (label: Label, meta: Omit<AccountMeta, 'accountId'>, org: string | null, ua: string): number => {
    const id = `acct-${(serial++).toString(36).padStart(5, '0')}-${s.int(1e6).toString(36)}`;
    sim.accounts.push({ meta: { accountId: id, orgId: org, ...meta }, label, org, ua });
    return sim.accounts.length - 1;
  };
  const aged = () => T0 - (30 + s.int(700)) * DAY;

  /** Human sessions: diurnal local hours, exponential gaps within a session. */
  const humanTimes = (n: number, tz: number, hourMean = 14, hourSd = 3.5, dayPick?: () => number): number[] => {
    const out: number[] = [];
    while (out.length < n) {
      const day = dayPick ? dayPick() : s.int(o.days);
      const localHour = Math.min(23.9, Math.max(0, hourMean + hourSd * s.normal()));
      let t = T0 + day * DAY + (localHour - tz) * 3_600_000;
      const len = 1 + Math.floor(s.exp(5));
      for (let i = 0; i < len && out.length < n; i++) {
        out.push(Math.min(T0 + span - 1, Math.max(T0, t)));
        t += s.exp(90_000);
      }
    }
    return out;
  };
  const TZ = [-8, -5, -3, 0, 1, 2, 5.5, 8, 9];
  const benignPrompt = (reasoning: boolean) => {
    const body = words(6 + s.int(40));
    return reasoning ? `${body} explain step by step` : body;
  };
  const benignTokens = () => {
    const inTok = Math.round(s.logNormal(180, 1.0)) + 5;
    return [inTok, Math.round(inTok * s.logNormal(1.6, 0.6)) + 10] as const;
  };

  let budget = o.benignRequests;
  let accountsLeft = o.benignAccounts;
  if (o.hardNegatives) {
    // Power users: one account, very high volume, diverse prompts, human (long) hours.
    for (let u = 0; u < Math.round(100 * o.hardNegativeScale); u++) {
      const tz = s.pick(TZ);
      const a = newAccount('power-user', { createdAt: aged(), paymentFingerprint: `card-${s.int(1e9)}`, netPrefix: homePrefix(s), clientFingerprint: `fp-${s.int(1e9)}`, kyc: s.r() < 0.5 ? 'basic' : 'none' }, null, s.pick(BROWSERS));
      const n = 800 + s.int(1400);
      const pfx = sim.prefixId(sim.accounts[a].meta.netPrefix!);
      const reasonP = 0.1 + s.r() * 0.3;
      for (const t of humanTimes(n, tz, 14, 5)) {
        const r = s.r() < reasonP;
        const [i, out] = benignTokens();
        sim.store.push(t, a, i, out, benignPrompt(r), pfx);
      }
      budget -= n;
      accountsLeft--;
    }
    // Companies with templated automation: one verified org, shared card and egress prefix, 24/7 regular jobs.
    for (let c = 0; c < Math.max(1, Math.round(20 * o.hardNegativeScale)); c++) {
      const org = `org-auto-${c}`;
      const card = `card-${s.int(1e9)}`;
      const egress = homePrefix(s);
      const pfx = sim.prefixId(egress);
      const template = `${words(12)} extract the following fields as json ${words(6)} from the document:`;
      for (let k = 0; k < 5; k++) {
        const a = newAccount('automation', { createdAt: aged(), paymentFingerprint: card, netPrefix: egress, clientFingerprint: `fp-svc-${c}`, kyc: 'verified-organisation' }, org, 'python-httpx/0.27');
        const n = 300 + s.int(400);
        let t = T0 + s.r() * 3_600_000;
        const step = span / n;
        for (let i = 0; i < n; i++) {
          const inTok = 600 + s.int(600);
          sim.store.push(Math.min(T0 + span - 1, t), a, inTok, 80 + s.int(150), `${template} ${words(15)}`, pfx);
          t += step * (0.9 + 0.2 * s.r());
        }
        budget -= n;
        accountsLeft--;
      }
    }
    // Corporate NAT: many ordinary employees behind one prefix.
    for (let c = 0; c < Math.max(1, Math.round(10 * o.hardNegativeScale)); c++) {
      const nat = homePrefix(s);
      const pfx = sim.prefixId(nat);
      const tz = s.pick(TZ);
      for (let k = 0; k < 150; k++) {
        const a = newAccount('corporate-nat', { createdAt: aged(), paymentFingerprint: `card-${s.int(1e9)}`, netPrefix: nat, clientFingerprint: `fp-${s.int(1e9)}`, kyc: 'none' }, null, s.pick(BROWSERS));
        const n = 2 + Math.round(s.logNormal(8, 0.8));
        for (const t of humanTimes(n, tz, 13, 2.5)) {
          const [i, out] = benignTokens();
          sim.store.push(t, a, i, out, benignPrompt(s.r() < 0.1), pfx);
        }
        budget -= n;
        accountsLeft--;
      }
    }
    // Classrooms: accounts created together, one school prefix and device image, the same homework prompt
    // asking for step-by-step explanations, used during class hours only, low volume.
    for (let c = 0; c < Math.max(1, Math.round(40 * o.hardNegativeScale)); c++) {
      const school = homePrefix(s);
      const pfx = sim.prefixId(school);
      const created = T0 - s.int(20) * DAY;
      const tz = s.pick(TZ);
      const lesson = `for my homework explain step by step ${words(10)}`;
      const classDays = [s.int(o.days), s.int(o.days), s.int(o.days)];
      const classHour = 9 + s.int(6);
      for (let k = 0; k < 30; k++) {
        const a = newAccount('classroom', { createdAt: created + s.int(3_600_000), paymentFingerprint: `card-school-${c}`, netPrefix: school, clientFingerprint: `fp-school-${c}`, kyc: 'none' }, null, 'Mozilla/5.0 CrOS Chrome/131');
        const n = 4 + s.int(12);
        for (const t of humanTimes(n, tz, classHour, 0.4, () => s.pick(classDays))) {
          const inTok = 40 + s.int(80);
          sim.store.push(t, a, inTok, inTok * (2 + s.int(4)), `${lesson} ${words(4)}`, pfx);
        }
        budget -= n;
        accountsLeft--;
      }
    }
  }
  // Ordinary users: heavy-tailed volumes scaled to the remaining budget.
  const vols: number[] = [];
  let sum = 0;
  for (let u = 0; u < accountsLeft; u++) {
    const v = 1 + s.logNormal(3, 1.3);
    vols.push(v);
    sum += v;
  }
  for (let u = 0; u < accountsLeft; u++) {
    const tz = s.pick(TZ);
    const a = newAccount('benign', { createdAt: aged() + s.int(60) * DAY, paymentFingerprint: `card-${s.int(1e9)}`, netPrefix: homePrefix(s), clientFingerprint: `fp-${s.int(1e9)}`, kyc: s.r() < 0.2 ? 'basic' : 'none' }, null, s.pick(BROWSERS));
    const n = Math.max(1, Math.round((vols[u] / sum) * Math.max(0, budget)));
    const homePfx = sim.prefixId(sim.accounts[a].meta.netPrefix!);
    const mobilePfx = sim.prefixId(homePrefix(s));
    const reasonP = s.r() < 0.15 ? 0.4 : 0.03;
    for (const t of humanTimes(n, tz)) {
      const [i, out] = benignTokens();
      sim.store.push(t, a, i, out, benignPrompt(s.r() < reasonP), s.r() < 0.8 ? homePfx : mobilePfx);
    }
  }
  // The ring.
  const st = Math.max(0, Math.min(1, o.stealth));
  if (o.ringSize > 0) {
    const N = o.ringSize;
    const cards = Array.from({ length: Math.ceil(N * (st >= 1 ? 10 : st * st)) + 5 }, () => `card-${s.int(1e9)}`);
    const fps = Array.from({ length: Math.ceil(N * (st >= 1 ? 10 : st * st)) + 3 }, () => `fp-${s.int(1e9)}`);
    // Proxies: a few datacenter prefixes at low stealth; residential prefixes (same space as users) as it rises.
    const proxies = Array.from({ length: Math.round(20 + st * 3000) }, () => (s.r() < st ? homePrefix(s) : `203.0.${s.int(256)}.0/24`));
    const variants = Array.from({ length: 1 + Math.round(st * 30) }, () => paraphrase(s, s.pick(RING_TEMPLATES), st * 0.5));
    const burstStart = T0 - 2 * DAY;
    const ringTz = s.pick(TZ);
    let item = 0;
    for (let k = 0; k < N; k++) {
      const signup = s.r() < st ? aged() : burstStart + s.r() * DAY;
      const a = newAccount('ring', { createdAt: signup, paymentFingerprint: s.pick(cards), netPrefix: s.pick(proxies), clientFingerprint: s.pick(fps), kyc: 'none' }, null, st > 0.5 ? s.pick(BROWSERS) : 'python-requests/2.32');
      const n = Math.max(3, Math.round(o.ringRequestsPerAccount * (0.7 + 0.6 * s.r())));
      const period = span / n;
      let t = T0 + s.r() * period;
      const ownProxy = sim.prefixId(s.pick(proxies));
      for (let i = 0; i < n; i++) {
        let when = t;
        // High stealth: only during working hours of one time zone (breaks the round-the-clock signature).
        if (st > 0.6) {
          const h = (((when / 3_600_000 + ringTz) % 24) + 24) % 24;
          if (h < 7 || h > 23) when += (8 - Math.floor(h) + (h > 23 ? 24 : 0)) * 3_600_000;
        }
        const template = paraphrase(s, s.pick(variants), st * 0.3);
        const reasoning = s.r() < 0.9 - 0.5 * st;
        const body = `${template.replace(/step by step|explain your reasoning|full reasoning/gi, reasoning ? '$&' : 'briefly')} ${words(8 + s.int(8))} #${item++}`;
        const padding = st > 0 ? ` ${words(Math.round(st * 60 * s.r()))}` : '';
        const inTok = Math.round(60 + st * 500 * s.r()) + 20;
        const outTok = Math.round(s.logNormal(1400, 0.3) * (1 - 0.4 * st));
        sim.store.push(Math.min(T0 + span - 1, when), a, inTok, outTok, body + padding, s.r() < 0.3 ? sim.prefixId(s.pick(proxies)) : ownProxy);
        // Jitter: log-normal gaps; sigma 1.2 at full stealth gives a coefficient of variation near human sessions.
        t += period * Math.exp(1.2 * st * s.normal() - 0.72 * st * st);
      }
    }
  }
  sim.sortByTime();
  return sim;
}

/** Precision/recall of flagged accounts against the ground truth, and hard negatives above a level. */
export function evaluate(flagged: ReadonlyMap<string, number>, labels: ReadonlyMap<string, Label>, minScore: number) {
  let tp = 0;
  let fp = 0;
  let ring = 0;
  const falsePositivesByLabel: Record<string, number> = {};
  for (const [, l] of labels) if (l === 'ring') ring++;
  for (const [id, score] of flagged) {
    if (score < minScore) continue;
    const l = labels.get(id);
    if (l === 'ring') tp++;
    else {
      fp++;
      falsePositivesByLabel[l ?? 'unknown'] = (falsePositivesByLabel[l ?? 'unknown'] ?? 0) + 1;
    }
  }
  return { tp, fp, ring, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: ring === 0 ? 1 : tp / ring, falsePositivesByLabel };
}
