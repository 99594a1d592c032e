/**
 * Prompt similarity sketch: an 8 x 8-bit MinHash (b-bit MinHash, 8 hash functions, low byte of each minimum)
 * over word unigrams and bigrams, as 16 hex characters. Two prompts agree on each byte with probability about
 * their Jaccard similarity, so prompts built from one template agree on many bytes even when the filled-in
 * content differs (a 64-bit SimHash would drift ~20 bits apart there and defeat banding). The text cannot be
 * recovered from it. Called on the gateway hot path, so it allocates nothing per word: words are hashed from
 * char codes, minima live in one module-level buffer.
 */
import { fmix32 } from '../core/random.ts';

const K = 8;
const mins = new Uint32Array(K);
const SEEDS = new Uint32Array([0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f, 0x165667b1, 0xd3a2646c, 0xfd7046c5, 0xb55a4f09]);
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit finaliser (murmur3 fmix) so that related inputs spread over all bits. */
const fmix = fmix32;

function addFeature(h: number): void {
  for (let i = 0; i < K; i++) {
    const v = fmix(h ^ SEEDS[i]);
    if (v < mins[i]) mins[i] = v;
  }
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c > 127 || (c >= 65 && c <= 90);
}

const HEX = '0123456789abcdef';

/** 8 x 8-bit MinHash of `text` (lower-cased words, unigrams + bigrams) as 16 lowercase hex chars. */
export function sketchPrompt(text: string): string {
  mins.fill(0xffffffff);
  let h = FNV_OFFSET;
  let inWord = false;
  let prev = 0;
  let havePrev = false;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    let c = i < n ? text.charCodeAt(i) : 32;
    if (isWordChar(c)) {
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, FNV_PRIME);
      inWord = true;
    } else if (inWord) {
      const w = h >>> 0;
      addFeature(w);
      if (havePrev) addFeature((Math.imul(prev, 31) ^ w ^ 0x5bd1e995) >>> 0);
      prev = w;
      havePrev = true;
      h = FNV_OFFSET;
      inWord = false;
    }
  }
  let s = '';
  for (let i = 0; i < K; i++) s += HEX[(mins[i] >>> 4) & 15] + HEX[mins[i] & 15];
  return s;
}

const REASONING = /\b(step[- ]by[- ]step|chain[- ]of[- ]thought|show (your|all|the) (work|reasoning|steps)|explain (your|the) reasoning|think (carefully|step)|reasoning trace|full derivation)\b/i;

/** Does the prompt ask for a reasoning trace? A cheap lexical test; the detector treats it as one weak signal. */
export function asksForReasoning(text: string): boolean {
  return REASONING.test(text);
}

/** Function words left out of the item key: they carry phrasing, not the task. */
const STOPWORDS = new Set<number>();
for (const w of ('the and for you your with that this from are was were have has had not but can could would should will ' +
  'what when where which who how why all any each every some into onto about over under then than them they their there ' +
  'here also just very more most such only own same other our out off too its it\'s please give me let make get use using ' +
  'like want need help one two way may might must shall does did doing done be been being is am an as at by if in of on or ' +
  'so to up we us do my no it i a').split(' ')) STOPWORDS.add(wordHash(w));

function wordHash(w: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

const hex8 = (v: number) => {
  let s = '';
  for (let i = 28; i >= 0; i -= 4) s += HEX[(v >>> i) & 15];
  return s;
};

/**
 * Prompt shape, 16 hex chars: 8 for the structure (sentence count, length and coarse per-sentence length buckets,
 * punctuation, code, digits — what a paraphrase of the same template keeps) and 8 for the item (an
 * order-independent sum over content words of three or more letters, function words dropped, trailing "s"
 * folded — equal when the same task is asked again, e.g. one class assignment or one benchmark item).
 * Allocation-free per word, like sketchPrompt.
 */
export function promptShape(text: string): string {
  let h = FNV_OFFSET;
  let len = 0;
  let last = 0;
  let words = 0;
  let sentences = 0;
  let sentWords = 0;
  let sentBuckets = 0;
  let item = 0;
  let digits = 0;
  let code = 0;
  let colon = 0;
  let newlines = 0;
  let question = 0;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    let c = i < n ? text.charCodeAt(i) : 46;
    if (isWordChar(c)) {
      if (c >= 65 && c <= 90) c += 32;
      if (c >= 48 && c <= 57) digits = 1;
      // "s" is held back one step so that a trailing one can be folded away.
      if (last === 115) h = Math.imul(h ^ 115, FNV_PRIME);
      if (c !== 115) h = Math.imul(h ^ c, FNV_PRIME);
      last = c;
      len++;
      continue;
    }
    if (len > 0) {
      words++;
      sentWords++;
      // A word ending in "s" was hashed without it; a short word or a function word is phrasing, not content.
      const full = last === 115 ? (Math.imul(h ^ 115, FNV_PRIME) >>> 0) : h >>> 0;
      if (len >= 3 && !STOPWORDS.has(full)) item = (item + fmix(h >>> 0)) >>> 0;
      h = FNV_OFFSET;
      len = 0;
      last = 0;
    }
    if (c === 46 || c === 33 || c === 63 || c === 10) {
      if (c === 10) newlines++;
      if (c === 63) question = 1;
      if (sentWords > 0) {
        if (sentences < 4) sentBuckets = sentBuckets * 4 + (sentWords < 5 ? 0 : sentWords < 16 ? 1 : sentWords < 40 ? 2 : 3);
        sentences++;
        sentWords = 0;
      }
    } else if (c === 58) colon = 1;
    else if (c === 123 || c === 125 || c === 59 || c === 61) code++;
  }
  let s = Math.min(sentences, 7);
  s = s * 16 + Math.min(15, 31 - Math.clz32(words + 1));
  s = s * 256 + sentBuckets;
  s = s * 64 + colon * 32 + question * 16 + digits * 8 + (code > 3 ? 4 : 0) + Math.min(3, newlines);
  return hex8(fmix(s >>> 0 ^ Math.floor(s / 4294967296))) + hex8(item);
}

/** The abuse signals the gateway attaches to a RequestEvent, from one prompt text (never the text itself). */
export function promptSignals(text: string): { promptSketch: string; promptShape: string; reasoningRequested: boolean } {
  return { promptSketch: sketchPrompt(text), promptShape: promptShape(text), reasoningRequested: asksForReasoning(text) };
}

/** 16 lowercase hex chars (a char loop: ~3× cheaper than a regex on the ingest path). */
export function isSketch(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 16) return false;
  for (let i = 0; i < 16; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * The 4 LSH band keys of a sketch (2 bytes each, tagged with the band number). Two prompts with Jaccard J share
 * a given band with probability about J^2, so a template that fills half of each prompt repeats its band keys
 * in about a quarter of requests per band, while unrelated prompts collide with probability 2^-16.
 */
export function bandKeys(sketch: string, out: Int32Array): void {
  for (let b = 0; b < 4; b++) {
    let v = 0;
    for (let i = b * 4; i < b * 4 + 4; i++) {
      const c = sketch.charCodeAt(i);
      v = (v << 4) | (c <= 57 ? c - 48 : c - 87); // validated lowercase hex
    }
    out[b] = (b << 16) | v;
  }
}

/** Fraction of the 8 MinHash bytes two sketches share: an estimate of the prompts' Jaccard similarity. */
export function similarity(a: string, b: string): number {
  let same = 0;
  for (let i = 0; i < 16; i += 2) if (a[i] === b[i] && a[i + 1] === b[i + 1]) same++;
  return same / 8;
}
