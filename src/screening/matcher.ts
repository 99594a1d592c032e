/**
 * Screening names against list entries: every name of an entry (primary and aliases) is indexed by the phonetic
 * key and the first four letters of each token (of five letters or more); a subject's candidates are the names sharing enough tokens with it
 * (two, or all of the shorter name's when it has fewer), and only those are scored. The score is explainable: each
 * token pairing (exact, phonetic, similar with its Jaro-Winkler), the coverage of the longer name, and the country
 * and type adjustments are returned with it.
 */
import type { EntryType, ScreeningEntry } from './lists.ts';
import { fold, jaroWinkler, phoneticKey, tokens } from './normalize.ts';

export interface Subject {
  id: string;
  /** `account` or `org` (what a hit blocks). */
  kind: 'account' | 'org';
  /** A person or an organisation, when known: an entry of the other type scores lower. */
  type?: 'individual' | 'entity';
  name: string;
  aliases?: string[];
  /** ISO 3166-1 alpha-2 (residence or registration), when known. */
  country?: string | null;
}

export interface TokenPairing {
  subject: string;
  entry: string;
  how: 'exact' | 'phonetic' | 'similar';
  score: number;
}

export interface Match {
  subjectId: string;
  subjectName: string;
  entry: { id: string; list: string; source: string; type: EntryType; name: string; programs: string[]; countries: string[] };
  /** The entry's name that matched (its primary name or an alias). */
  matchedName: string;
  score: number;
  decision: 'hit' | 'review';
  explanation: { nameScore: number; coverage: number; pairings: TokenPairing[]; country: 'matches' | 'differs' | 'unknown'; type: 'matches' | 'differs' | 'unknown' };
}

export interface MatcherOptions {
  /** At or above: a hit (default 0.92). */
  hit?: number;
  /** At or above: queued for review (default 0.85). */
  review?: number;
}

interface PreparedName {
  entry: number;
  text: string;
  tokens: string[];
  keys: string[];
}

/** How much the tokens of the longer name that found no partner lower the score: (shorter / longer) ^ COVERAGE_EXP. */
const COVERAGE_EXP = 0.15;
const COUNTRY_DIFFERS = 0.93;
const TYPE_DIFFERS = 0.9;

function tokenScore(a: string, ka: string, b: string, kb: string): { score: number; how: TokenPairing['how'] } {
  if (a === b) return { score: 1, how: 'exact' };
  const jw = jaroWinkler(a, b);
  if (ka === kb && ka.length >= 2) return { score: Math.max(0.93, jw), how: 'phonetic' };
  return { score: jw, how: 'similar' };
}

/** Greedy best pairing of the shorter name's tokens with the longer's; returns the mean over the shorter name. */
export function compareNames(s: { tokens: string[]; keys: string[] }, e: { tokens: string[]; keys: string[] }): { nameScore: number; coverage: number; pairings: TokenPairing[] } {
  const sShorter = s.tokens.length <= e.tokens.length;
  const short = sShorter ? s : e;
  const long = sShorter ? e : s;
  const used = new Uint8Array(long.tokens.length);
  const pairings: TokenPairing[] = [];
  let sum = 0;
  for (let i = 0; i < short.tokens.length; i++) {
    let best = -1;
    let bestScore = 0;
    let bestHow: TokenPairing['how'] = 'similar';
    for (let j = 0; j < long.tokens.length; j++) {
      if (used[j]) continue;
      const t = tokenScore(short.tokens[i]!, short.keys[i]!, long.tokens[j]!, long.keys[j]!);
      if (t.score > bestScore) {
        bestScore = t.score;
        best = j;
        bestHow = t.how;
      }
    }
    if (best >= 0) {
      used[best] = 1;
      sum += bestScore;
      const [st, et] = sShorter ? [short.tokens[i]!, long.tokens[best]!] : [long.tokens[best]!, short.tokens[i]!];
      pairings.push({ subject: st, entry: et, how: bestHow, score: Math.round(bestScore * 1000) / 1000 });
    }
  }
  const coverage = Math.pow(short.tokens.length / long.tokens.length, COVERAGE_EXP);
  return { nameScore: short.tokens.length ? sum / short.tokens.length : 0, coverage, pairings };
}

function prepare(text: string, entry: number, tokenText: string = text): PreparedName | null {
  const t = tokens(tokenText);
  if (t.length === 0) return null;
  return { entry, text, tokens: t, keys: t.map(phoneticKey) };
}

/**
 * A name, and — when it has an Arabic article written apart (`Al Rashid`, `AL-RASHID`) — the same name with the
 * article joined (`Alrashid`), the other common spelling; the article alone is a stopword.
 */
function variants(text: string, entry: number): PreparedName[] {
  const out: PreparedName[] = [];
  const p = prepare(text, entry);
  if (p) out.push(p);
  const folded = fold(text);
  const joined = folded.replace(/\b(al|el) (?=[a-z]{3})/g, '$1');
  if (joined !== folded) {
    const j = prepare(text, entry, joined);
    if (j) out.push(j);
  }
  return out;
}

export class ScreeningIndex {
  private readonly names: PreparedName[] = [];
  private readonly postings = new Map<string, number[]>();
  private readonly counts: Uint8Array;
  /** Which subject token last counted a name (a token counts once per name even when key and prefix both match). */
  private readonly stamps: Int32Array;
  private stamp = 0;
  private readonly touched: number[] = [];
  readonly hit: number;
  readonly review: number;

  constructor(
    readonly entries: readonly ScreeningEntry[],
    opts: MatcherOptions = {},
  ) {
    this.hit = opts.hit ?? 0.92;
    this.review = opts.review ?? 0.85;
    entries.forEach((e, i) => {
      for (const n of [e.name, ...e.aliases]) {
        for (const p of variants(n, i)) {
        const idx = this.names.length;
        this.names.push(p);
        // One posting per distinct token signal of the name (key and 3-letter prefix), so counts are per token.
        const seen = new Set<string>();
        for (let t = 0; t < p.tokens.length; t++) for (const sig of signals(p.tokens[t]!, p.keys[t]!)) if (!seen.has(sig)) seen.add(sig), this.postingOf(sig).push(idx);
        }
      }
    });
    this.counts = new Uint8Array(this.names.length);
    this.stamps = new Int32Array(this.names.length);
  }

  get size(): { entries: number; names: number } {
    return { entries: this.entries.length, names: this.names.length };
  }

  private postingOf(sig: string): number[] {
    let p = this.postings.get(sig);
    if (!p) this.postings.set(sig, (p = []));
    return p;
  }

  /** Every entry the subject may be (decision `hit` or `review`), best first, one match per entry. */
  screen(subject: Subject): Match[] {
    const best = new Map<number, Match>();
    for (const text of [subject.name, ...(subject.aliases ?? [])]) {
      for (const s of variants(text, -1))
      for (const idx of this.candidates(s)) {
        const n = this.names[idx]!;
        const m = this.score(subject, s, n);
        if (m && (best.get(n.entry)?.score ?? -1) < m.score) best.set(n.entry, m);
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score);
  }

  /** Names sharing a token signal with enough of the subject's tokens. */
  private candidates(s: PreparedName): number[] {
    const counts = this.counts;
    const touched = this.touched;
    touched.length = 0;
    const stamps = this.stamps;
    for (let t = 0; t < s.tokens.length; t++) {
      const stamp = ++this.stamp;
      for (const sig of signals(s.tokens[t]!, s.keys[t]!)) {
        const list = this.postings.get(sig);
        if (!list) continue;
        for (const idx of list) {
          if (stamps[idx] === stamp) continue;
          stamps[idx] = stamp;
          if (counts[idx] === 0) touched.push(idx);
          if (counts[idx]! < 255) counts[idx]!++;
        }
      }
    }
    const out: number[] = [];
    for (const idx of touched) {
      const need = Math.min(2, s.tokens.length, this.names[idx]!.tokens.length);
      if (counts[idx]! >= need) out.push(idx);
      counts[idx] = 0;
    }
    return out;
  }

  private score(subject: Subject, s: PreparedName, n: PreparedName): Match | null {
    const cmp = compareNames(s, n);
    let score = cmp.nameScore * cmp.coverage;
    if (score < this.review * TYPE_DIFFERS * COUNTRY_DIFFERS) return null; // cannot reach review whatever the adjustments
    const e = this.entries[n.entry]!;
    let country: Match['explanation']['country'] = 'unknown';
    if (subject.country && e.countries.length) {
      country = e.countries.includes(subject.country) ? 'matches' : 'differs';
      if (country === 'differs') score *= COUNTRY_DIFFERS;
    }
    let type: Match['explanation']['type'] = 'unknown';
    if (subject.type && (e.type === 'individual' || e.type === 'entity')) {
      type = subject.type === e.type ? 'matches' : 'differs';
      if (type === 'differs') score *= TYPE_DIFFERS;
    }
    if (score < this.review) return null;
    score = Math.round(score * 1000) / 1000;
    return {
      subjectId: subject.id,
      subjectName: s.text,
      entry: { id: e.id, list: e.list, source: e.source, type: e.type, name: e.name, programs: e.programs, countries: e.countries },
      matchedName: n.text,
      score,
      decision: score >= this.hit ? 'hit' : 'review',
      explanation: { nameScore: Math.round(cmp.nameScore * 1000) / 1000, coverage: Math.round(cmp.coverage * 1000) / 1000, pairings: cmp.pairings, country, type },
    };
  }
}

function signals(token: string, key: string): string[] {
  const out = [`k:${key}`];
  if (token.length >= 5) out.push(`p:${token.slice(0, 4)}`);
  return out;
}
