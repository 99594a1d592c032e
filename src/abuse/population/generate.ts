/**
 * Population traffic generator: a second, independent source of labelled traffic for the ring detector.
 *
 * Independent of src/abuse/simulate.ts by construction: another PRNG (xoshiro128**), other distributions
 * (Pareto volumes, Weibull gaps, gamma token counts, Poisson sessions), English prompt text from its own
 * word lists and templates, an ISP/carrier/datacenter address plan (home /24s shared by neighbours, mobile
 * carrier-grade NAT, campus and office egress), and populations the first simulator does not have.
 *
 * Benign populations: heavy-tailed consumers, developers, coding-agent users (one tool's long public system
 * prompt, machine-paced agent loops), SaaS back-ends (verified orgs, 24/7 templated jobs), enterprises (shared
 * office egress, one org card, managed laptop image), CI bots (cron, repeated prompts, a CI provider's shared
 * ranges), university classes (one sign-up week, campus NAT, grant card, lab image, the same assignment with
 * "show your work"), research groups (verified orgs running public benchmarks round the clock, long answers).
 * Rings: crude (shared cards, burst sign-up, one template, datacenter proxies), careful (a card and a device per
 * account, residential proxies over many /24s, sentence-level paraphrase, a disjoint topic-grid sweep, jittered
 * human-like timing, staggered ramp-up), small (40 accounts) and enterprise-mimic (a verified shell organisation).
 *
 * Deterministic per seed. Prompt text is sketched with the gateway's own `promptSignals` and dropped; events live
 * in typed arrays and are materialised in time order.
 */
import { promptSignals } from '../sketch.ts';
import { grown, LabelledTraffic } from '../traffic-table.ts';
import type { AbuseEvent, AccountMeta } from '../types.ts';
import { Rand } from './rand.ts';
import * as T from './text.ts';

export type PopLabel =
  | 'consumer' | 'developer' | 'coding-agent' | 'saas' | 'enterprise' | 'ci-bot' | 'class' | 'research'
  | 'ring-crude' | 'ring-careful' | 'ring-small' | 'ring-shell';
export const RING_LABELS: readonly PopLabel[] = ['ring-crude', 'ring-careful', 'ring-small', 'ring-shell'];
/** Benign populations that share infrastructure, templates or organisations, or look like harvesting. */
export const HARD_NEGATIVE_LABELS: readonly PopLabel[] = ['coding-agent', 'saas', 'enterprise', 'ci-bot', 'class', 'research'];
export const isRing = (l: PopLabel | undefined) => l !== undefined && l.startsWith('ring-');

export interface PopulationOptions {
  seed: number;
  /** 1 ≈ 1M requests from ~60k accounts over `days`; populations and the crude/careful rings scale with it. */
  scale: number;
  days: number;
  startTime: number;
  /** Ring sizes at scale 1 (crude and careful scale with `scale`; small and shell with 5 × scale, capped at 1). */
  rings: { crude: number; careful: number; small: number; shell: number };
  /**
   * Stress variant (not part of the standard population): careful-ring accounts each use a few residential /24s of
   * their own instead of drawing from one shared proxy pool, removing the ring's strongest infrastructure link.
   */
  carefulPrivateProxies?: boolean;
}

export const DEFAULT_POPULATION: PopulationOptions = {
  seed: 1,
  scale: 1,
  days: 14,
  startTime: Date.UTC(2026, 9, 5),
  rings: { crude: 2500, careful: 500, small: 40, shell: 100 },
};

const DAY = 86_400_000;
const HOUR = 3_600_000;

const BROWSER_UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/129.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/129.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/129.0 Safari/537.36',
];
const SDK_UAS = ['openai-python/1.54.3', 'anthropic-typescript/0.32.1', 'openai-node/4.71.0', 'langchain/0.3.7'];

/** Time zones (hours from UTC) with population weights. */
const ZONES: [number, number][] = [[-8, 0.12], [-5, 0.2], [-3, 0.05], [0, 0.1], [1, 0.15], [2, 0.05], [5.5, 0.12], [8, 0.12], [9, 0.09]];

class Store {
  n = 0;
  time = new Float64Array(1 << 16);
  account = new Int32Array(1 << 16);
  inTok = new Uint32Array(1 << 16);
  outTok = new Uint32Array(1 << 16);
  sk = new Uint32Array(1 << 17);
  sh = new Uint32Array(1 << 17);
  prefix = new Int32Array(1 << 16);
  reason = new Uint8Array(1 << 16);
  private grow(): void {
    this.time = grown(this.time);
    this.account = grown(this.account);
    this.inTok = grown(this.inTok);
    this.outTok = grown(this.outTok);
    this.sk = grown(this.sk);
    this.sh = grown(this.sh);
    this.prefix = grown(this.prefix);
    this.reason = grown(this.reason);
  }
  push(time: number, account: number, inTok: number, outTok: number, text: string, prefix: number): void {
    if (this.n === this.time.length) this.grow();
    const i = this.n++;
    this.time[i] = Math.round(time);
    this.account[i] = account;
    this.inTok[i] = inTok;
    this.outTok[i] = outTok;
    const s = promptSignals(text);
    this.sk[2 * i] = parseInt(s.promptSketch.slice(0, 8), 16);
    this.sk[2 * i + 1] = parseInt(s.promptSketch.slice(8), 16);
    this.sh[2 * i] = parseInt(s.promptShape.slice(0, 8), 16);
    this.sh[2 * i + 1] = parseInt(s.promptShape.slice(8), 16);
    this.prefix[i] = prefix;
    this.reason[i] = s.reasoningRequested ? 1 : 0;
  }
}

export interface PopAccount {
  meta: AccountMeta;
  label: PopLabel;
  /** Group within the label (which class, org, ring…), for per-group figures. */
  group: string;
  ua: string;
}

export class Population extends LabelledTraffic<PopLabel, PopAccount> {
  readonly store = new Store();

  constructor(readonly opts: PopulationOptions) {
    super();
  }

  /** Puts the generated events in time order. */
  finish(): void {
    this.sortEvents();
  }

  protected materialise(i: number): AbuseEvent {
    const st = this.store;
    const acc = this.accounts[st.account[i]];
    const hex = (v: number) => v.toString(16).padStart(8, '0');
    return {
      requestId: `p${this.opts.seed}-${i.toString(36)}`,
      time: st.time[i],
      keyId: `k-${acc.meta.accountId}`,
      accountId: acc.meta.accountId,
      orgId: acc.meta.orgId ?? null,
      protocol: (i & 1) === 0 ? 'openai' : 'anthropic',
      stream: (i & 2) === 0,
      modelRequested: 'frontier',
      modelServed: 'frontier',
      outcome: 'ok',
      status: 200,
      inputTokens: st.inTok[i],
      outputTokens: st.outTok[i],
      usageEstimated: false,
      costUsd: 0,
      latencyMs: 900,
      promptSketch: hex(st.sk[2 * i]) + hex(st.sk[2 * i + 1]),
      promptShape: hex(st.sh[2 * i]) + hex(st.sh[2 * i + 1]),
      netPrefix: this.prefixes[st.prefix[i]],
      userAgent: acc.ua,
      reasoningRequested: st.reason[i] === 1,
    };
  }
}

export function generatePopulation(partial: Partial<PopulationOptions> = {}): Population {
  const o: PopulationOptions = { ...DEFAULT_POPULATION, ...partial, rings: { ...DEFAULT_POPULATION.rings, ...(partial.rings ?? {}) } };
  const pop = new Population(o);
  const r = new Rand(o.seed, 7);
  const T0 = o.startTime;
  const END = T0 + o.days * DAY - 1;
  const S = o.scale;
  const sc = (n: number, min = 1) => Math.max(min, Math.round(n * S));
  const clampT = (t: number) => Math.min(END, Math.max(T0, t));
  let serial = 0;

  // --- address plan ---
  const isps = Array.from({ length: 400 }, () => `${11 + r.int(180)}.${r.int(256)}`);
  const homePrefix = () => `${r.pick(isps)}.${r.int(256)}.0/24`;
  const carriers = Array.from({ length: 20 }, () => Array.from({ length: 12 }, () => homePrefix()));
  const mobilePrefix = (c: number) => r.pick(carriers[c % carriers.length]);
  const cloud = (n: number) => Array.from({ length: n }, () => `${r.pick([34, 35, 52, 54, 104, 143, 159])}.${r.int(256)}.${r.int(256)}.0/24`);
  const ciRanges = cloud(12);

  const zone = () => {
    let x = r.next();
    for (const [z, w] of ZONES) if ((x -= w) < 0) return z;
    return 0;
  };
  const aged = (minDays = 30, maxDays = 1500) => T0 - (minDays + r.next() * (maxDays - minDays)) * DAY;
  const card = () => `pm_${r.int(2 ** 31).toString(36)}${r.int(2 ** 31).toString(36)}`;
  const device = () => `dv_${r.int(2 ** 31).toString(36)}${r.int(2 ** 31).toString(36)}`;

  const add = (label: PopLabel, group: string, meta: Omit<AccountMeta, 'accountId'>, ua: string): number => {
    const id = `u${(serial++).toString(36)}${r.int(46656).toString(36)}`;
    pop.accounts.push({ meta: { accountId: id, ...meta }, label, group, ua });
    return pop.accounts.length - 1;
  };

  /** Local-time human sessions: day activity probability, a bimodal hour (work/evening), Weibull gaps inside. */
  const humanSessions = (n: number, tz: number, dayP: number, emit: (t: number) => void, pace = 70_000, workHours = false) => {
    let left = n;
    let guard = 0;
    while (left > 0 && guard++ < 10_000) {
      for (let d = 0; d < o.days && left > 0; d++) {
        if (r.next() > dayP) continue;
        const hour = workHours || r.next() < 0.6 ? 9.5 + 8 * r.next() : 19 + 4 * r.next();
        let t = T0 + d * DAY + (hour - tz) * HOUR;
        const len = 1 + r.poisson(Math.min(left, 3 + left / (o.days * dayP + 1)));
        for (let i = 0; i < len && left > 0; i++, left--) {
          emit(clampT(t));
          t += r.weibull(pace, 0.7);
        }
      }
    }
  };

  // --- consumers ---
  for (let k = 0, N = sc(40_000); k < N; k++) {
    const tz = zone();
    const home = homePrefix();
    const a = add('consumer', 'consumers', { createdAt: aged(1, 1200), paymentFingerprint: card(), clientFingerprint: device(), netPrefix: home, kyc: r.next() < 0.3 ? 'basic' : 'none' }, r.pick(BROWSER_UAS));
    const n = Math.min(3000, Math.floor(r.pareto(1, 1.15)));
    const hp = pop.prefixId(home);
    const carrier = r.int(20);
    humanSessions(n, tz, Math.min(0.9, 0.08 + n / 60), (t) => {
      const text = T.consumerPrompt(r);
      const inTok = 12 + Math.round(text.length / 4);
      pop.store.push(t, a, inTok, r.tokens(380, 0.7), text, r.next() < 0.7 ? hp : pop.prefixId(mobilePrefix(carrier)));
    });
  }
  // --- developers ---
  for (let k = 0, N = sc(5000); k < N; k++) {
    const tz = zone();
    const home = homePrefix();
    const office = r.next() < 0.5 ? homePrefix() : home;
    const a = add('developer', 'developers', { createdAt: aged(10, 1000), paymentFingerprint: card(), clientFingerprint: device(), netPrefix: home, kyc: r.next() < 0.4 ? 'verified-identity' : 'basic' }, r.next() < 0.5 ? r.pick(SDK_UAS) : r.pick(BROWSER_UAS));
    const n = Math.min(2000, Math.floor(r.pareto(6, 1.6)));
    const hp = pop.prefixId(home);
    const op = pop.prefixId(office);
    humanSessions(n, tz, 0.6, (t) => {
      const text = T.developerPrompt(r);
      pop.store.push(t, a, 30 + Math.round(text.length / 3.5), r.tokens(520, 0.7), text, r.next() < 0.6 ? op : hp);
    }, 120_000, true);
  }
  // --- coding-agent users: one tool's long public system prompt, machine-paced agent loops ---
  for (let k = 0, N = sc(3000); k < N; k++) {
    const tz = zone();
    const home = homePrefix();
    const a = add('coding-agent', 'codepilot', { createdAt: aged(5, 700), paymentFingerprint: card(), clientFingerprint: device(), netPrefix: home, kyc: r.next() < 0.3 ? 'verified-identity' : 'basic' }, 'CodePilot/2.3.1 (agent)');
    const hp = pop.prefixId(home);
    const sessions = 1 + r.poisson(4);
    for (let s = 0; s < sessions; s++) {
      const day = r.int(o.days);
      let t = T0 + day * DAY + (9 + 12 * r.next() - tz) * HOUR;
      const loop = 5 + Math.floor(r.pareto(5, 1.5));
      let ctx = 3000 + r.int(4000);
      for (let i = 0; i < Math.min(loop, 200); i++) {
        const text = T.agentPrompt(r);
        pop.store.push(clampT(t), a, ctx, r.tokens(420, 0.8), text, hp);
        ctx += r.int(1500);
        t += r.weibull(9000, 1.6);
      }
    }
  }
  // --- SaaS back-ends: verified orgs, templated 24/7 jobs from cloud egress ---
  for (let c = 0, N = sc(120); c < N; c++) {
    const org = `org-saas-${c}`;
    const egress = cloud(2);
    const orgCard = card();
    const job = r.int(5);
    const rate = 15 + r.pareto(10, 1.3);
    const members = 1 + r.int(3);
    for (let m = 0; m < members; m++) {
      const a = add('saas', org, { orgId: org, createdAt: aged(60, 900), paymentFingerprint: orgCard, clientFingerprint: `svc-${org}`, netPrefix: egress[0], kyc: 'verified-organisation' }, r.pick(SDK_UAS));
      const ep = egress.map((e) => pop.prefixId(e));
      const n = Math.min(6000, Math.round(rate * o.days / members));
      for (let i = 0; i < n; i++) {
        const hourOfDay = r.next();
        // Business-driven load: a daily cycle, never silent.
        const t = T0 + r.int(o.days) * DAY + (hourOfDay < 0.7 ? 8 + 12 * r.next() : 24 * r.next()) * HOUR;
        const text = T.saasPrompt(r, job);
        pop.store.push(clampT(t), a, 40 + Math.round(text.length / 4), job === 4 ? r.tokens(260, 0.3) : r.tokens(120, 0.5), text, r.pick(ep));
      }
    }
  }
  // --- enterprises: shared office egress, one org card, a managed laptop image ---
  for (let c = 0, N = sc(40); c < N; c++) {
    const org = `org-ent-${c}`;
    const egress = [homePrefix(), homePrefix()];
    const ep = egress.map((e) => pop.prefixId(e));
    const orgCard = card();
    const image = device();
    const tz = zone();
    const staff = 20 + r.int(130);
    for (let m = 0; m < staff; m++) {
      const a = add('enterprise', org, { orgId: org, createdAt: aged(20, 800), paymentFingerprint: orgCard, clientFingerprint: image, netPrefix: egress[0], kyc: 'verified-organisation' }, r.pick(BROWSER_UAS.slice(0, 3)));
      const n = Math.min(800, Math.floor(r.pareto(4, 1.4)));
      humanSessions(n, tz, 0.55, (t) => {
        const text = T.enterprisePrompt(r);
        pop.store.push(t, a, 20 + Math.round(text.length / 4), r.tokens(450, 0.6), text, r.pick(ep));
      }, 200_000, true);
    }
  }
  // --- CI bots: cron schedules, repeated prompts, a CI provider's shared ranges ---
  for (let c = 0, N = sc(200); c < N; c++) {
    const repo = r.int(1e6);
    const a = add('ci-bot', 'ci', { createdAt: aged(30, 900), paymentFingerprint: card(), clientFingerprint: `ci-runner`, netPrefix: r.pick(ciRanges), kyc: 'basic' }, 'ci-runner/5.2');
    const period = r.pick([1, 2, 4, 6, 12]) * HOUR;
    const checks = 1 + r.int(5);
    const phase = r.next() * period;
    for (let t = T0 + phase; t < END; t += period) {
      for (let k = 0; k < checks; k++) {
        const text = T.ciPrompt(r, repo, k);
        pop.store.push(clampT(t + k * 20_000 + r.int(15_000)), a, 300 + r.int(200), r.tokens(250, 0.5), text, pop.prefixId(r.pick(ciRanges)));
      }
    }
  }
  // --- university classes: one sign-up week, campus NAT, a grant card, a lab image, the same assignment ---
  for (let c = 0, N = sc(40); c < N; c++) {
    const campus = [homePrefix(), homePrefix()].map((p) => pop.prefixId(p));
    const grant = card();
    const image = device();
    const tz = zone();
    const termStart = T0 - (5 + r.int(25)) * DAY;
    const assignments = Array.from({ length: 2 + r.int(2) }, () => T.assignment(r, c));
    const classDays = Array.from({ length: 4 }, () => r.int(o.days));
    const size = 25 + r.int(100);
    const org = r.next() < 0.5 ? `org-univ-${c % 7}` : undefined;
    for (let m = 0; m < size; m++) {
      const dorm = pop.prefixId(homePrefix());
      const a = add('class', `class-${c}`, { ...(org ? { orgId: org } : {}), createdAt: termStart + r.next() * 3 * DAY, paymentFingerprint: grant, clientFingerprint: image, netPrefix: pop.prefixes[campus[0]], kyc: 'basic' }, 'Mozilla/5.0 (X11; CrOS x86_64) AppleWebKit/537.36 Chrome/129.0 Safari/537.36');
      const n = 3 + Math.min(120, Math.floor(r.pareto(4, 1.5)));
      for (let i = 0; i < n; i++) {
        const inClass = r.next() < 0.6;
        const day = inClass ? r.pick(classDays) : r.int(o.days);
        const hour = inClass ? 10 + r.next() * 2 : 14 + r.next() * 9;
        const text = T.studentPrompt(r, r.pick(assignments));
        pop.store.push(clampT(T0 + day * DAY + (hour - tz) * HOUR + r.int(600_000)), a, 20 + Math.round(text.length / 4), r.tokens(650, 0.5), text, inClass ? r.pick(campus) : dorm);
      }
    }
  }
  // --- research groups: verified orgs running public benchmarks, long reasoning answers, round the clock ---
  for (let g = 0, N = sc(25); g < N; g++) {
    const org = `org-lab-${g}`;
    const cluster = cloud(1).map((p) => pop.prefixId(p));
    const labCard = card();
    const benches = [r.int(3), r.int(3)];
    const members = 3 + r.int(6);
    for (let m = 0; m < members; m++) {
      const a = add('research', org, { orgId: org, createdAt: aged(30, 700), paymentFingerprint: labCard, clientFingerprint: device(), netPrefix: pop.prefixes[cluster[0]], kyc: 'verified-organisation' }, r.pick(SDK_UAS));
      const runs = 1 + r.int(2);
      for (let run = 0; run < runs; run++) {
        const bench = r.pick(benches);
        const items = 300 + r.int(900);
        let t = T0 + r.next() * (o.days - 2) * DAY;
        for (let i = 0; i < items; i++) {
          const text = T.benchmarkItem(bench, i);
          pop.store.push(clampT(t), a, 30 + Math.round(text.length / 4), r.tokens(900, 0.5), text, cluster[0]);
          t += r.weibull(6000, 1.8);
        }
      }
    }
  }

  // --- rings ---
  const ringScale = (n: number, keep: boolean) => (keep ? Math.max(3, Math.round(n * Math.min(1, S * 5))) : sc(n, 3));
  // Topic grid shared by every ring that sweeps: 50 subjects × 20 subtopics × 10 tasks = 10,000 cells.
  const CELLS = T.SUBJECTS.length * T.SUBTOPICS.length * T.TASKS.length;
  const cellOf = (c: number) => {
    const x = ((c % CELLS) + CELLS) % CELLS;
    return [x % T.SUBJECTS.length, Math.floor(x / T.SUBJECTS.length) % T.SUBTOPICS.length, Math.floor(x / (T.SUBJECTS.length * T.SUBTOPICS.length))] as const;
  };
  const perm = (n: number, rr: Rand) => {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rr.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  };
  const gridOrder = perm(CELLS, r);

  // Crude: shared cards and devices, one-day burst sign-up, one template, datacenter proxies, metronome timing.
  {
    const N = ringScale(o.rings.crude, false);
    const cards = Array.from({ length: Math.max(2, Math.round(N / 100)) }, card);
    const devices = Array.from({ length: Math.max(2, Math.round(N / 250)) }, device);
    const proxies = cloud(30).map((p) => pop.prefixId(p));
    const burst = T0 - 2 * DAY + r.next() * HOUR;
    let cell = r.int(CELLS);
    for (let k = 0; k < N; k++) {
      const a = add('ring-crude', 'crude', { createdAt: burst + r.next() * 20 * HOUR, paymentFingerprint: r.pick(cards), clientFingerprint: r.pick(devices), netPrefix: pop.prefixes[r.pick(proxies)], kyc: 'none' }, 'python-requests/2.32.3');
      const n = 30 + r.int(20);
      const step = (o.days * DAY) / n;
      let t = T0 + r.next() * step;
      for (let i = 0; i < n; i++) {
        const [s1, s2, s3] = cellOf(gridOrder[cell++ % CELLS]);
        const text = `${T.CRUDE_TEMPLATE} ${T.gridCell(s1, s2, s3)}.`;
        pop.store.push(clampT(t), a, 55 + r.int(20), r.tokens(1800, 0.3), text, r.pick(proxies));
        t += step * (0.85 + 0.3 * r.next());
      }
    }
  }
  // Careful: one card and one device per account, residential proxies over many /24s (sticky per session),
  // sentence-level paraphrase, a disjoint grid sweep, human-like jitter in one time zone, staggered ramp-up.
  {
    const N = ringScale(o.rings.careful, false);
    const pool = Array.from({ length: Math.max(200, Math.round(N * 5)) }, () => pop.prefixId(homePrefix()));
    const tz = -5;
    let cell = r.int(CELLS);
    for (let k = 0; k < N; k++) {
      // Sign-ups trickle in over two months; activation ramps up over the first week of the campaign.
      const a = add('ring-careful', 'careful', { createdAt: T0 - r.next() * 60 * DAY, paymentFingerprint: card(), clientFingerprint: device(), netPrefix: pop.prefixes[r.pick(pool)], kyc: r.next() < 0.3 ? 'basic' : 'none' }, r.pick(BROWSER_UAS));
      const own = o.carefulPrivateProxies ? [0, 1, 2].map(() => pop.prefixId(homePrefix())) : null;
      const start = T0 + (k / N) * 6 * DAY + r.next() * DAY;
      const n = 70 + r.int(60);
      let t = start;
      let i = 0;
      while (i < n && t < END) {
        const day = Math.floor((t - T0) / DAY);
        const local = ((t - T0) / HOUR + tz + 24 * 10) % 24;
        if (local < 8 || local > 23) {
          t = T0 + day * DAY + (8 + 3 * r.next() - tz) * HOUR + (local > 23 ? DAY : 0);
          continue;
        }
        const proxy = own ? r.pick(own) : r.pick(pool);
        const len = 2 + r.int(6);
        for (let j = 0; j < len && i < n; j++, i++) {
          const [s1, s2, s3] = cellOf(gridOrder[cell++ % CELLS]);
          const text = T.carefulPrompt(r, s1, s2, s3);
          pop.store.push(clampT(t), a, 60 + Math.round(text.length / 5), r.tokens(1300, 0.35), text, proxy);
          t += r.weibull(150_000, 0.8);
        }
        // Between sessions: hours, log-normal; the campaign's pace rises as accounts mature.
        t += HOUR * Math.exp(0.9 * r.gauss() + 1.2 - Math.min(1, (t - start) / (5 * DAY)));
      }
    }
  }
  // Small: 40 accounts, three cards, a VPN prefix plus home lines, lightly varied template, office hours.
  {
    const N = ringScale(o.rings.small, true);
    const cards = [card(), card(), card()];
    const devices = [device(), device()];
    const vpn = pop.prefixId(cloud(1)[0]);
    const signup = T0 - 10 * DAY;
    let cell = r.int(CELLS);
    for (let k = 0; k < N; k++) {
      const home = homePrefix();
      const a = add('ring-small', 'small', { createdAt: signup + r.next() * 5 * DAY, paymentFingerprint: r.pick(cards), clientFingerprint: r.pick(devices), netPrefix: home, kyc: 'none' }, r.pick(BROWSER_UAS));
      const hp = pop.prefixId(home);
      humanSessions(50 + r.int(30), 1, 0.8, (t) => {
        const [s1, s2, s3] = cellOf(gridOrder[cell++ % CELLS]);
        const text = T.smallRingPrompt(r, T.gridCell(s1, s2, s3));
        pop.store.push(t, a, 40 + r.int(20), r.tokens(1500, 0.3), text, r.next() < 0.7 ? vpn : hp);
      }, 40_000, true);
    }
  }
  // Enterprise mimic: 100 accounts in one KYC-verified shell organisation, cloud egress, 24/7 jobs.
  {
    const N = ringScale(o.rings.shell, true);
    const org = 'org-nimbus-analytics';
    const egress = cloud(2).map((p) => pop.prefixId(p));
    const orgCard = card();
    let cell = r.int(CELLS);
    const created = T0 - 90 * DAY;
    for (let k = 0; k < N; k++) {
      const a = add('ring-shell', org, { orgId: org, createdAt: created + r.next() * 14 * DAY, paymentFingerprint: orgCard, clientFingerprint: device(), netPrefix: pop.prefixes[egress[0]], kyc: 'verified-organisation' }, 'nimbus-pipeline/1.4 (python-httpx)');
      const n = 120 + r.int(60);
      for (let i = 0; i < n; i++) {
        const [s1, s2, s3] = cellOf(gridOrder[cell++ % CELLS]);
        const text = T.shellPrompt(r, T.gridCell(s1, s2, s3));
        pop.store.push(T0 + r.next() * (END - T0), a, 60 + r.int(30), r.tokens(1600, 0.3), text, r.pick(egress));
      }
    }
  }
  pop.finish();
  return pop;
}

/** Account-level figures against the labels: overall, per label, hard negatives flagged. */
export function scorePopulation(flagged: ReadonlySet<string>, labels: ReadonlyMap<string, PopLabel>) {
  const per: Record<string, { accounts: number; flagged: number }> = {};
  let tp = 0;
  let fp = 0;
  let rings = 0;
  let hard = 0;
  let hardFlagged = 0;
  for (const [id, l] of labels) {
    const f = flagged.has(id);
    const p = (per[l] ??= { accounts: 0, flagged: 0 });
    p.accounts++;
    if (f) p.flagged++;
    if (isRing(l)) {
      rings++;
      if (f) tp++;
    } else if (f) fp++;
    if (HARD_NEGATIVE_LABELS.includes(l)) {
      hard++;
      if (f) hardFlagged++;
    }
  }
  const rate = (l: PopLabel) => (per[l] ? per[l].flagged / per[l].accounts : NaN);
  return {
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: rings === 0 ? 1 : tp / rings,
    tp,
    fp,
    hardNegativeFlagRate: hard === 0 ? 0 : hardFlagged / hard,
    recallByRing: Object.fromEntries(RING_LABELS.map((l) => [l, rate(l)])),
    flagRateByLabel: Object.fromEntries(Object.entries(per).map(([l, p]) => [l, p.flagged / p.accounts])),
    perLabel: per,
  };
}
