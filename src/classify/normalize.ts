/**
 * Normalisation against obfuscation. Pure string functions; the classifier sees the output, never the raw text.
 * Order matters: NFKC first (folds full-width and compatibility forms), then invisible characters, then homoglyphs
 * and leetspeak (which only touch words that already mix scripts or letters with digits, so that ordinary Greek or
 * Cyrillic prose and plain numbers survive).
 */

// Zero-width, bidi controls, soft hyphen, word joiner, BOM, variation selectors, tag characters are all removed;
// other C0/C1 controls except \n and \t become spaces.
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDDEF]/g;
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** Cyrillic and Greek letters that render like Latin ones. */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ɡ: 'g',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', І: 'I', Ј: 'J', Ѕ: 'S',
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
};
const HOMOGLYPH_CHARS = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`);
const HOMOGLYPH_CODES: ReadonlySet<number> = new Set(Object.keys(HOMOGLYPHS).map((k) => k.charCodeAt(0)));
/** Substitutes and the letter each stands for. `1` reads as i or l (foldLeetWord decides by its neighbours); `+` as t, except in "C++" and a grade like "A+". */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '6': 'g', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i', '|': 'l', '+': 't' };

/** A "word" here is a run of non-space characters: homoglyph and leet folding decide per word. */
const LATIN = /[A-Za-z]/;
const LEET_CANDIDATE = /^[A-Za-z0-9@$!|+'-]*[A-Za-z][A-Za-z0-9@$!|+'-]*$/;
const LEET_CHAR = /[013456789@$!|+]/;

export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, '').replace(CONTROL, ' ');
}

/** Fold lookalike letters only inside words that also contain Latin letters (a mixed-script word is a disguise). */
export function foldHomoglyphs(text: string): string {
  if (!HOMOGLYPH_CHARS.test(text)) return text;
  // One pass over the words (runs of non-space): only a word holding a lookalike is sliced and examined, so long
  // texts with some Greek or Cyrillic (maths, names) cost one scan, not a regex search from every position.
  let out = '';
  let last = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    const start = i;
    let has = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) break;
      if (c >= 0x370 && HOMOGLYPH_CODES.has(c)) has = true;
      i++;
    }
    if (has) {
      const w = text.slice(start, i);
      const folded = w.replace(/./gu, (ch) => HOMOGLYPHS[ch] ?? ch);
      // A word made only of lookalikes (e.g. Cyrillic "рор") is folded too when the result is pure Latin.
      if ((LATIN.test(w) || /^[A-Za-z]+$/.test(folded)) && folded !== w) {
        out += text.slice(last, start) + folded;
        last = i;
      }
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Fold leetspeak inside words that mix letters with digit/symbol substitutes ("h4ck", "p@ssw0rd"); numbers stay. */
const LEET_HINT = /[A-Za-z][013456789@$!|+]|[013456789@$!|+][A-Za-z]/;
const VOWEL = /[aeiou]/;

function foldLeetWord(w: string): string {
  const core = w.replace(/^[("'[]+|[)"'\].,;:?]+$/g, '');
  if (core.length < 2 || !LEET_CHAR.test(core) || !LEET_CANDIDATE.test(core) || core.includes('++')) return w;
  // Substitute first, then settle each `1`: i between two consonants ("w1ndow", "k1ll"), l next to a vowel
  // ("vu1n", "ema!1", "app1ication").
  const chars = [...core].map((c, i) => (c === '1' || (c === '+' && i === core.length - 1 && core.length <= 2) ? c : (LEET[c] ?? c)));
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] !== '1') continue;
    const before = (chars[i - 1] ?? '').toLowerCase();
    const after = (chars[i + 1] ?? '').toLowerCase();
    const consonant = (ch: string) => /[a-z]/.test(ch) && !VOWEL.test(ch);
    chars[i] = consonant(before) && consonant(after) ? 'i' : VOWEL.test(before) || VOWEL.test(after) ? 'l' : 'i';
  }
  return w.replace(core, chars.join(''));
}

/** JavaScript's `\s` as char codes. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 0xa0 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff));
}

const LEET_CODES = new Uint8Array(128);
for (const ch of '013456789@$!|+') LEET_CODES[ch.charCodeAt(0)] = 1;

export function foldLeet(text: string): string {
  if (!LEET_HINT.test(text)) return text; // no word mixes letters with substitutes: nothing to fold (the common case)
  // One pass over the words (runs of non-space): only a word holding both a Latin letter and a substitute can change,
  // so only those are sliced and examined; long texts of numbers and prose cost one scan.
  let out = '';
  let last = 0;
  let words = 0;
  let folded = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    const start = i;
    let letter = false;
    let leet = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isSpace(c)) break;
      const l = c | 32;
      if (l >= 97 && l <= 122) letter = true;
      else if (c < 128 && LEET_CODES[c] === 1) leet = true;
      i++;
    }
    if (i > start) words++;
    if (letter && leet) {
      const w = text.slice(start, i);
      const f = foldLeetWord(w);
      if (f !== w) {
        out += text.slice(last, start) + f;
        last = i;
        folded++;
      }
    }
  }
  const result = last === 0 ? text : out + text.slice(last);
  // A text written in leetspeak throughout also writes its short words as substitutes alone ("do ! need 70 take",
  // "4 recipe", "+0 hide"): once enough of its words were folded, those are read as letters too.
  return folded >= LEET_TEXT_MIN_WORDS && folded >= LEET_TEXT_SHARE * words ? result.replace(LEET_ALONE, (m, pre: string, tok: string) => pre + [...tok].map((c) => LEET[c] ?? c).join('')) : result;
}

/** foldLeet's whole-text mode: at least this many folded words, making up at least this share of the words. */
const LEET_TEXT_MIN_WORDS = 3;
const LEET_TEXT_SHARE = 0.15;
/** A token of one to three substitutes standing alone (between spaces or at the ends, before punctuation). */
const LEET_ALONE = /(^|\s)([013456789@$!|+]{1,3})(?=[\s.,;:?]|$)/g;

/** Full normalisation of instruction text. Code segments get only NFKC + invisible stripping (see segment.ts). */
export function normalizeText(text: string): string {
  return foldLeet(foldHomoglyphs(stripInvisible(text.normalize('NFKC'))));
}

/** Separates decoded text from what surrounded it, so that each is chunked and judged on its own (pipeline.ts). */
export const SECTION = '\u2029';

export type DecodeKind = 'base64' | 'hex' | 'rot13' | 'url' | 'html' | 'unicode-escape' | 'tags' | 'reversed';

export interface DecodedSegment {
  kind: DecodeKind;
  text: string;
  /** Where the encoded run sits in the input (rot13: the whole sample). */
  start: number;
  end: number;
}

const BASE64_RUN = /[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9_-]{24,}={0,2}/g;
const HEX_RUN = /(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s,:]?){8,}/g;
const MAX_DECODED = 8; // an attacker cannot make us decode without bound

function printableRatio(s: string): number {
  if (s.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9 || c >= 160) ok++;
  }
  return ok / s.length;
}

/** Is there a run of 16+ base64 characters? A linear scan, far cheaper than the run regex on ordinary prose. */
function isB64Char(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 45 || c === 95;
}

/**
 * The matches of BASE64_RUN in `text`, found by running it only over maximal runs of its characters (16 or more,
 * with up to two trailing '='): a match cannot start or end anywhere else, so the result is the same as matching the
 * whole text, without a regex attempt at every position of long prose.
 */
function* base64Runs(text: string): Generator<{ 0: string; index: number }> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && !isB64Char(text.charCodeAt(i))) i++;
    const start = i;
    while (i < n && isB64Char(text.charCodeAt(i))) i++;
    if (i - start < 16) continue;
    let end = i;
    while (end < n && end - i < 2 && text.charCodeAt(end) === 61) end++;
    for (const m of text.slice(start, end).matchAll(BASE64_RUN)) yield { 0: m[0], index: start + m.index };
  }
}

function hasLongRun(s: string): boolean {
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 45 || c === 95) {
      if (++run >= 16) return true;
    } else run = 0;
  }
  return false;
}

/** A decoded layer that is itself an encoding (base64 of base64, hex of base64, …): worth peeling further. */
function looksEncoded(s: string): boolean {
  const t = s.trim();
  return t.length >= 16 && (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t) || /^(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s,:]?)+$/.test(t) || /(%[0-9A-Fa-f]{2}){3}/.test(t) || /(&#?[0-9A-Za-z]+;){3}/.test(t));
}

function hasLetters(s: string): boolean {
  if (looksEncoded(s)) return true;
  let letters = 0;
  for (let i = 0; i < s.length && letters < 4; i++) {
    const c = s.charCodeAt(i) | 32;
    if (c >= 97 && c <= 122) letters++;
  }
  return letters >= 4 && /\s/.test(s);
}

// Common English words, for deciding whether a rot13 rotation turned gibberish into language.
const COMMON = new Set(
  'the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there their what so up out if about who get which go me when make can like time no just him know take how into your some could them than then now only its over also use two how our work first well way even new want because any these give day most us is are was were has had been write code help please tell explain how make create build give show find steal hack kill bomb virus password system'.split(
    ' ',
  ),
);

function commonWordCount(s: string): number {
  let n = 0;
  for (const m of s.toLowerCase().matchAll(/[a-z]+/g)) if (COMMON.has(m[0])) n++;
  return n;
}

/** Runs of ASCII letters in `s` (what commonWordCount counts over): an upper bound on any transform's common words. */
function letterRuns(s: string): number {
  let n = 0;
  let inRun = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 32;
    const letter = c >= 97 && c <= 122;
    if (letter && !inRun) n++;
    inRun = letter;
  }
  return n;
}

/**
 * Could some rot13 or reversed reading of `s` pass readsBetter? Only if it has enough words to gain: a line that is
 * already English (many common words) cannot double them. Lets the per-line test skip ordinary prose without
 * building its rot13 and reversed readings.
 */
export function mayReadBetter(s: string): boolean {
  const words = letterRuns(s);
  if (words < 3) return false;
  const before = commonWordCount(s);
  return words >= 2 * before && words >= before + 3;
}

export function rot13(s: string): string {
  let out = '';
  let from = 0;
  // Letters are rotated a run at a time: one slice per run of other characters, not a callback per character.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const l = c | 32;
    if (l < 97 || l > 122) continue;
    if (from < i) out += s.slice(from, i);
    out += String.fromCharCode(((l - 97 + 13) % 26) + 97 - (c & 32 ? 0 : 32));
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

export function reverse(s: string): string {
  let out = '';
  for (let i = s.length - 1; i >= 0; i--) out += s[i];
  return out;
}

/**
 * Does `transformed` read as far more English than `original`? (rot13 and reversed text detection.) At least twice
 * the common words and three more: short words survive reversal ("a", "no" <-> "on"), so reversed English keeps a few.
 */
export function readsBetter(original: string, transformed: string): boolean {
  const after = commonWordCount(transformed);
  if (after < 3) return false;
  const before = commonWordCount(original);
  return after >= 2 * before && after >= before + 3;
}

// Decimal (`&#87;`), hex (`&#x57;`) and named (`&amp;`, `&NewLine;`) references. Names are matched case-sensitively
// first (HTML's own rule), then case-folded; an unknown name is left as it was.
const HTML_ENTITY = /&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g;
const HTML_RUN = /(?:&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});\s?){3,}/g;
/**
 * The named references that stand for ASCII punctuation and the common typographic marks (HTML5 names). No
 * prototype: `&valueOf;` must not find anything on Object.prototype.
 */
const NAMED_ENTITIES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', sol: '/', colon: ':', period: '.', comma: ',', excl: '!', quest: '?', lpar: '(', rpar: ')',
  semi: ';', num: '#', dollar: '$', percnt: '%', ast: '*', midast: '*', plus: '+', equals: '=', commat: '@', lsqb: '[', lbrack: '[', rsqb: ']', rbrack: ']',
  bsol: '\\', lowbar: '_', UnderBar: '_', grave: '`', lcub: '{', lbrace: '{', rcub: '}', rbrace: '}', verbar: '|', vert: '|', VerticalLine: '|', tilde: '~', Hat: '^',
  hyphen: '-', dash: '-', ndash: '\u2013', mdash: '\u2014', hellip: '\u2026', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d',
  NewLine: '\n', Tab: '\t', ensp: ' ', emsp: ' ', thinsp: ' ', shy: '', zwj: '', zwnj: '', copy: '\u00a9', reg: '\u00ae', trade: '\u2122', deg: '\u00b0',
  times: '\u00d7', divide: '\u00f7', middot: '\u00b7', bull: '\u2022', laquo: '\u00ab', raquo: '\u00bb', iexcl: '\u00a1', iquest: '\u00bf',
});
const NAMED_FOLDED: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(Object.entries(NAMED_ENTITIES).map(([k, v]) => [k.toLowerCase(), v])));
const UNICODE_ESCAPE = /\\u\{([0-9A-Fa-f]{1,6})\}|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|\\([0-7]{3})/g;
const ESCAPE_RUN = /(?:(?:\\u\{[0-9A-Fa-f]{1,6}\}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|\\[0-7]{3})\s?){3,}/g;
const TAG_RUN = /(?:\uDB40[\uDC20-\uDC7E])+/g;

function fromCode(cp: number): string {
  return cp >= 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : ' ';
}

/**
 * Whole-text decodings that keep the surrounding text: HTML entities, Unicode escapes (\uXXXX, \u{…}, \xXX, octal)
 * and URL encoding. Each applies only when the text holds at least three encoded units, so ordinary text (one `&amp;`,
 * one `%20`) is left alone.
 */
function inlineDecodings(text: string, out: DecodedSegment[]): void {
  let n = 0;
  for (const _ of text.matchAll(HTML_ENTITY)) if (++n >= 3) break;
  if (n >= 3) {
    const one = (m: string, e: string) => (e[0] === '#' ? fromCode(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (NAMED_ENTITIES[e] ?? NAMED_FOLDED[e.toLowerCase()] ?? m));
    // A run of three or more entities is an encoded message: it becomes a section of its own (judged alone).
    const d = text.replace(HTML_RUN, (run) => SECTION + run.replace(HTML_ENTITY, one) + SECTION).replace(HTML_ENTITY, one);
    if (d !== text) out.push({ kind: 'html', text: d, start: 0, end: text.length });
  }
  n = 0;
  for (const _ of text.matchAll(UNICODE_ESCAPE)) if (++n >= 3) break;
  if (n >= 3) {
    const one = (_m: string, braced?: string, u4?: string, x2?: string, oct?: string) => fromCode(parseInt(braced ?? u4 ?? x2 ?? '', braced || u4 || x2 ? 16 : 8) || parseInt(oct ?? '0', 8));
    const d = text.replace(ESCAPE_RUN, (run) => SECTION + run.replace(UNICODE_ESCAPE, one) + SECTION).replace(UNICODE_ESCAPE, one);
    if (d !== text) out.push({ kind: 'unicode-escape', text: d, start: 0, end: text.length });
  }
  let pct = 0;
  for (let i = text.indexOf('%'); i !== -1 && pct < 3; i = text.indexOf('%', i + 1)) if (/^%[0-9A-Fa-f]{2}/.test(text.slice(i, i + 3))) pct++;
  if (pct >= 3) {
    const d = text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
      let out: string;
      try {
        out = decodeURIComponent(m);
      } catch {
        out = Buffer.from(m.replace(/%/g, ''), 'hex').toString('latin1');
      }
      return m.length >= 9 ? SECTION + out + SECTION : out;
    });
    const plus = /%20/.test(text) ? d : d.replace(/\+/g, ' ');
    if (plus !== text) out.push({ kind: 'url', text: plus, start: 0, end: text.length });
  }
}

/**
 * Finds encoded content and returns its decoded text, so that the decoded request is classified too: base64 and hex
 * runs, Unicode tag characters (invisible ASCII), HTML entities, Unicode escapes, URL encoding, and rot13 or reversed
 * text (first `WHOLE_TEXT_SAMPLE` characters). Only decodings that look like language are returned. `peel` applies this
 * repeatedly to reach nested encodings.
 */
export function decodeSegments(text: string): DecodedSegment[] {
  const out: DecodedSegment[] = [];
  for (const m of text.matchAll(TAG_RUN)) {
    if (out.length >= MAX_DECODED) break;
    let d = '';
    for (let i = 1; i < m[0].length; i += 2) d += String.fromCharCode(m[0].charCodeAt(i) - 0xdc00);
    if (d.trim().length > 0) out.push({ kind: 'tags', text: d, start: m.index, end: m.index + m[0].length });
  }
  for (const m of hasLongRun(text) ? base64Runs(text) : []) {
    if (out.length >= MAX_DECODED) break;
    const run = m[0];
    // Pure hex or pure alphabetic runs are not base64 worth decoding (identifiers, hashes).
    if (/^[0-9a-fA-F]+$/.test(run) || /^[A-Za-z]+$/.test(run)) continue;
    const decoded = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (decoded.length >= 8 && printableRatio(decoded) > 0.95 && hasLetters(decoded)) out.push({ kind: 'base64', text: decoded, start: m.index, end: m.index + run.length });
  }
  for (const m of text.matchAll(HEX_RUN)) {
    if (out.length >= MAX_DECODED) break;
    const digits = m[0].replace(/\\x|0x|[\s,:]/g, '');
    if (digits.length % 2 !== 0) continue;
    const decoded = Buffer.from(digits, 'hex').toString('utf8');
    if (decoded.length >= 8 && printableRatio(decoded) > 0.95 && hasLetters(decoded)) out.push({ kind: 'hex', text: decoded, start: m.index, end: m.index + m[0].length });
  }
  inlineDecodings(text, out);
  // rot13 and reversed text: the whole text transformed reads as far more English than the text itself. (The pipeline
  // also checks each chunk of a long text, so a rot13 request after pages of prose is still found.)
  if (out.length < MAX_DECODED && /[A-Za-z]{3}/.test(text)) {
    const sample = text.length > WHOLE_TEXT_SAMPLE ? text.slice(0, WHOLE_TEXT_SAMPLE) : text;
    const rotated = rot13(sample);
    if (readsBetter(sample, rotated)) out.push({ kind: 'rot13', text: rotated, start: 0, end: sample.length });
    else {
      const rev = reverse(sample);
      if (readsBetter(sample, rev)) out.push({ kind: 'reversed', text: rev, start: 0, end: sample.length });
    }
  }
  return out;
}

export const WHOLE_TEXT_SAMPLE = 4000;
/** Nested encodings are peeled to this depth (base64 of hex of rot13 of … counts one level per layer). */
export const MAX_PEEL_DEPTH = 6;
/** At most this many decoded characters per request, whatever the nesting: decoding work is bounded. */
export const PEEL_BUDGET_CHARS = 262_144;

export interface PeelState {
  budget: number;
  kinds: DecodeKind[];
  depth: number;
}

/**
 * Replaces each encoded run by its (recursively peeled) decoding, and in-place decodings (HTML entities, escapes,
 * URL encoding) replace the text; rot13 and reversed readings are appended after a SECTION mark so that the original
 * and the decoded text are each judged on their own. Stops at MAX_PEEL_DEPTH layers or when the budget of decoded
 * characters is spent.
 */

export function peel(text: string, st: PeelState, level = 1): string {
  if (level > MAX_PEEL_DEPTH || st.budget <= 0) return text;
  const segs = decodeSegments(text);
  if (segs.length === 0) return text;
  if (level > st.depth) st.depth = level;
  let rebuilt = '';
  let at = 0;
  let appended = '';
  for (const seg of segs) {
    if (st.budget <= 0) break;
    st.budget -= seg.text.length;
    st.kinds.push(seg.kind);
    const inner = peel(seg.text, st, level + 1);
    if (seg.kind === 'html' || seg.kind === 'unicode-escape' || seg.kind === 'url') {
      // In-place decodings keep the text around the encoded units: the decoded text replaces the original.
      if (at === 0 && rebuilt === '') {
        text = inner;
        at = 0;
        continue;
      }
      appended += SECTION + inner;
      continue;
    }
    if (seg.kind === 'rot13' || seg.kind === 'reversed' || seg.start < at) {
      appended += SECTION + inner;
      continue;
    }
    // The decoded run becomes a section of its own, so the framing around it ("decode this and answer") cannot
    // dilute it; the whole-turn view still sees both together.
    rebuilt += text.slice(at, seg.start) + SECTION + inner + SECTION;
    at = seg.end;
  }
  return rebuilt + text.slice(at) + appended;
}
