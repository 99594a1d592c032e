/**
 * Denied-party screening speed: N accounts (default 1,000,000) screened against a 20,000-entry list with aliases
 * (about 50,000 names), names built from syllables of several languages, 1 % of accounts planted as list entries
 * spelt differently (transliteration variants, word order, a dropped middle name). Baseline in the same run:
 * normalising the same account names (fold, tokens, phonetic keys) and nothing else.
 *
 *   node --import tsx bench/screening.bench.ts [--accounts N]
 *
 * Prints accounts/s for both, the ratio, hits and the recall of the planted matches.
 */
import { parseArgs } from 'node:util';
import type { ScreeningEntry } from '../src/screening/lists.ts';
import { ScreeningIndex, type Subject } from '../src/screening/matcher.ts';
import { fold, phoneticKey, tokens } from '../src/screening/normalize.ts';

const { values } = parseArgs({ options: { accounts: { type: 'string' } } });
const N = Number(values.accounts ?? 1_000_000);
const ENTRIES = 20_000;

let seed = 11;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const SYL = ['ka', 'mo', 'ha', 'med', 'ser', 'gei', 'iv', 'an', 'ov', 'li', 'wei', 'zhang', 'al', 'ra', 'shid', 'yu', 'suf', 'ta', 'ro', 'ne', 'vi', 'ch', 'dra', 'pet', 'nik', 'la', 'os', 'ki', 'mar', 'tin', 'ez', 'gu', 'sta', 'vo', 'ber', 'gen', 'fa', 'tim', 'da', 'ni', 'el', 'ko', 'va', 'lev', 'sky', 'son', 'sen', 'ham', 'bak', 'ir'];
const word = () => {
  let w = '';
  const n = 2 + Math.floor(rnd() * 2);
  for (let i = 0; i < n; i++) w += pick(SYL);
  return w[0]!.toUpperCase() + w.slice(1);
};
const name = (parts: number) => Array.from({ length: parts }, word).join(' ');
/** A spelling variant: one vowel swapped for a transliteration twin, or two words swapped. */
const variant = (n: string) => {
  const swaps: Array<[RegExp, string]> = [[/ei/, 'ey'], [/ov\b/, 'off'], [/u/, 'ou'], [/k/, 'kh'], [/i/, 'y'], [/med/, 'mad']];
  const [re, to] = pick(swaps);
  const v = n.replace(re, to);
  return rnd() < 0.5 ? v.split(' ').reverse().join(' ') : v;
};

const entries: ScreeningEntry[] = Array.from({ length: ENTRIES }, (_, i) => {
  const n = name(2 + Math.floor(rnd() * 2));
  return { id: String(i), list: 'bench', source: 'bench', type: rnd() < 0.6 ? 'individual' : 'entity', name: n, aliases: Array.from({ length: Math.floor(rnd() * 3) }, () => (rnd() < 0.5 ? variant(n) : name(2))), countries: [pick(['RU', 'IR', 'KP', 'SY', 'CN', 'VE', 'CU'])], programs: ['BENCH'] };
});
const planted = new Map<string, string>();
const subjects: Subject[] = Array.from({ length: N }, (_, i) => {
  if (rnd() < 0.01) {
    const e = pick(entries);
    planted.set(`a${i}`, e.id);
    return { id: `a${i}`, kind: 'account', name: variant(e.name), country: e.countries[0]! };
  }
  return { id: `a${i}`, kind: 'account', name: name(2 + Math.floor(rnd() * 2)), country: pick(['US', 'GB', 'DE', 'FR', 'BR', 'IN', 'JP', 'RU', 'CN']) };
});

let t0 = performance.now();
let sink = 0;
for (const s of subjects) for (const t of tokens(s.name)) sink += phoneticKey(t).length + fold(t).length;
const baseMs = performance.now() - t0;

t0 = performance.now();
const index = new ScreeningIndex(entries);
const buildMs = performance.now() - t0;
t0 = performance.now();
let hits = 0;
let reviews = 0;
let found = 0;
for (const s of subjects) {
  const m = index.screen(s);
  if (m.length === 0) continue;
  if (m[0]!.decision === 'hit') hits++;
  else reviews++;
  const want = planted.get(s.id);
  if (want !== undefined && m.some((x) => x.entry.id === want)) found++;
}
const screenMs = performance.now() - t0;
console.log(`list: ${index.size.entries.toLocaleString()} entries, ${index.size.names.toLocaleString()} names; index built in ${(buildMs / 1000).toFixed(2)} s`);
console.log(`accounts: ${N.toLocaleString()}; ${hits.toLocaleString()} with a hit, ${reviews.toLocaleString()} for review; planted ${planted.size.toLocaleString()}, found ${found.toLocaleString()} (recall ${(found / Math.max(1, planted.size)).toFixed(3)})`);
console.log(`baseline (normalise names only): ${(baseMs / 1000).toFixed(2)} s, ${Math.round((N / baseMs) * 1000).toLocaleString()} accounts/s (${sink > 0 ? 'ok' : ''})`);
console.log(`screening: ${(screenMs / 1000).toFixed(2)} s, ${Math.round((N / screenMs) * 1000).toLocaleString()} accounts/s`);
console.log(`ratio screening ÷ normalising: ${(screenMs / baseMs).toFixed(2)}`);
