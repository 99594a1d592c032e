/**
 * Prompt similarity sketch: an 8 x 8-bit MinHash (b-bit MinHash, 8 hash functions, low byte of each minimum)
 * over word unigrams and bigrams, as 16 hex characters. Two prompts agree on each byte with probability about
 * their Jaccard similarity, so prompts built from one template agree on many bytes even when the filled-in
 * content differs (a 64-bit SimHash would drift ~20 bits apart there and defeat banding). The text cannot be
 * recovered from it. Called on the gateway hot path, so it allocates nothing per word: words are hashed from
 * char codes, minima live in one module-level buffer.
 */

const K = 8;
const mins = new Uint32Array(K);
const SEEDS = new Uint32Array([0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f, 0x165667b1, 0xd3a2646c, 0xfd7046c5, 0xb55a4f09]);
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit finaliser (murmur3 fmix) so that related inputs spread over all bits. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

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

/** Both abuse signals the gateway attaches to a RequestEvent, from one prompt text. */
export function promptSignals(text: string): { promptSketch: string; reasoningRequested: boolean } {
  return { promptSketch: sketchPrompt(text), reasoningRequested: asksForReasoning(text) };
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
