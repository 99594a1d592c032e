/**
 * Hashed character n-gram and word n-gram features. One FeatureHasher owns its scratch buffers and is reused across
 * calls: the hot loop hashes char codes in place (no substring or token allocation).
 *
 * Two sinks for the same features:
 * - training (`addText`): accumulates into a dense Float32Array, remembering which slots it touched so that clearing
 *   costs O(touched), not O(dim);
 * - scoring (`scoreText`): aggregates a piece of text the same way, then adds one weight row per distinct slot into a
 *   logit vector and clears the slots, so each piece (a chunk, the code) is scored once and views are combined by
 *   addition.
 * Both track `n2`, the sum of squared feature weights *per occurrence*. The vector is normalised by sqrt(n2) rather
 * than by the L2 norm of the aggregated vector: n2 is additive over pieces of text, so the logits of any union of
 * pieces are (sum of their raw logits) / sqrt(sum of their n2) — exact, in O(K), whichever way the text was cut.
 * Namespaces keep instruction words and code tokens apart: `strcpy` in pasted code and `strcpy` in the
 * instruction are different features with different learned weights.
 */
import { fmix32 as finish } from '../core/random.ts';

export const NS_INSTRUCTION = 0x1234567;
export const NS_CODE = 0x7654321;
export const NS_MARKER = 0x5a5a5a5;

const FNV_PRIME = 0x01000193;
/** Salt of a word's second, request-form feature (see REQUEST_FORM). */
const REQUEST_SALT = 0x51ed270b;

/**
 * Wording that asks for something: questions about how, requests addressed to the reader, stated wishes. In
 * instruction text that has it, every word is also hashed as a request-form word, so the model can weigh "attack" in
 * "how do I attack…" apart from "attack" in a history of the war: a linear model cannot learn that conjunction from
 * plain word features, and harmless stories, speeches and articles would otherwise pull harm words towards harmless
 * (or make every pasted article a refusal).
 */
export const REQUEST_FORM =
  /\b(?:how (?:to|do|does|did|can|could|would|should|might|much|many|long)|what(?:'s| is| are| would be)? (?:the )?(?:best|easiest|quickest|fastest|simplest|most effective|safest|cheapest)|(?:give|tell|show|teach|help|send|get|find|write|make) me|(?:can|could|would|will) you|i (?:want|need|would like|wanna|plan|intend|am going|'m going) to|i'd like to|ways? (?:to|of)|steps? (?:to|for)|tips? (?:on|for)|instructions? (?:on|for)|guide (?:on|to)|(?:write|create|generate|draft|compose|design|develop|build|make|produce|explain|describe|list|outline|provide|suggest|recommend|share|detail|craft|code|program) (?:a|an|the|me|some|my|your|how|step|detailed|instructions|ways?|code|\w+ing)\b|where (?:can|do|could) i|is it (?:possible|legal|okay|ok) to|should i|let'?s|please)\b/i;
const CHAR_MIN = 3;
const CHAR_MAX = 5;

function fold(c: number): number {
  // ASCII lower-case; every non-alphanumeric ASCII char becomes a space so punctuation variants share n-grams.
  if (c >= 65 && c <= 90) return c | 32;
  if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) return c;
  if (c < 128) return 32;
  return c;
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c >= 128;
}


export class FeatureHasher {
  readonly dim: number;
  private readonly mask: number;
  readonly values: Float32Array;
  readonly touched: Int32Array;
  count = 0;
  /** Sum of squared feature weights per occurrence since the last reset (the normaliser, see above). */
  n2 = 0;
  private folded: Uint16Array;

  constructor(
    bits: number,
    maxTouched = 1 << 16,
    /** Whether request-form words are features (REQUEST_FORM): a property of the trained model (its meta). */
    private readonly requestForm = false,
  ) {
    this.dim = 1 << bits;
    this.mask = this.dim - 1;
    this.values = new Float32Array(this.dim);
    this.touched = new Int32Array(maxTouched);
    this.folded = new Uint16Array(4096);
  }

  reset(): void {
    for (let i = 0; i < this.count; i++) this.values[this.touched[i]] = 0;
    this.count = 0;
    this.n2 = 0;
  }

  private add(h: number, w: number): void {
    this.n2 += w * w;
    const idx = finish(h) & this.mask;
    if (this.values[idx] === 0) {
      if (this.count >= this.touched.length) return; // capacity reached: ignore further new slots (bounded work)
      this.touched[this.count++] = idx;
    }
    this.values[idx] += w;
    if (this.values[idx] === 0) this.values[idx] = 1e-9; // keep the slot marked touched
  }

  /** A single marker feature (e.g. "decoded base64 present"). */
  addMarker(id: number, w: number): void {
    this.add(Math.imul(NS_MARKER ^ id, FNV_PRIME), w);
  }

  /**
   * Scores `text` straight into `out` (length K, not cleared) with weight rows `weights` (slot-major, K per slot);
   * returns the n2 of the features added. Markers can be scored the same way with `scoreMarker`.
   */
  scoreText(text: string, ns: number, w: number, weights: Float32Array, K: number, out: Float64Array): number {
    // Aggregate first, then one weight row per distinct slot: character 3-grams repeat a lot within a text, so this
    // reads far fewer rows than one per occurrence. Uses the training sink's buffers, which must be empty.
    if (this.count !== 0) throw new Error('FeatureHasher.scoreText: hasher holds features; reset() first');
    const before = this.n2;
    this.addText(text, ns, w);
    const vals = this.values;
    const touched = this.touched;
    for (let i = 0; i < this.count; i++) {
      const slot = touched[i];
      const v = vals[slot];
      vals[slot] = 0;
      const base = slot * K;
      for (let k = 0; k < K; k++) out[k] += weights[base + k] * v;
    }
    this.count = 0;
    const d = this.n2 - before;
    this.n2 = before;
    return d;
  }

  scoreMarker(id: number, w: number, weights: Float32Array, K: number, out: Float64Array): number {
    const idx = finish(Math.imul(NS_MARKER ^ id, FNV_PRIME)) & this.mask;
    const base = idx * K;
    for (let k = 0; k < K; k++) out[k] += weights[base + k] * w;
    return w * w;
  }

  /**
   * The screening pass for long inputs (pipeline.ts): hashes only the word unigrams and bigrams of `text` — exactly
   * the slots `addText` gives them — of text[start, end) and adds their rows of `screen` (slot-major, S columns) into
   * `acc` (length S, cleared here). Returns the number of features, the normaliser. No aggregation, no allocation: character n-grams,
   * most of the full feature set's cost, are skipped.
   */
  screenText(text: string, ns: number, screen: Float32Array, S: number, acc: Float64Array, start = 0, end = text.length): number {
    const mask = this.mask;
    acc.fill(0);
    const request = this.requestForm && ns === NS_INSTRUCTION && REQUEST_FORM.test(start === 0 && end === text.length ? text : text.slice(start, end));
    let count = 0;
    let prev = 0;
    let h = 0;
    let inWord = false;
    // Same folding and word boundaries as addText (runs of non-word characters are a single boundary there too).
    for (let i = start; i <= end; i++) {
      const c = i < end ? fold(text.charCodeAt(i)) : 32;
      if (isWordChar(c)) {
        if (!inWord) {
          h = ns;
          inWord = true;
        }
        h = Math.imul(h ^ c, FNV_PRIME);
      } else if (inWord) {
        inWord = false;
        let base = (finish(h) & mask) * S;
        for (let k = 0; k < S; k++) acc[k] += screen[base + k];
        count++;
        if (request) {
          base = (finish(Math.imul(h ^ REQUEST_SALT, FNV_PRIME)) & mask) * S;
          for (let k = 0; k < S; k++) acc[k] += screen[base + k];
          count++;
        }
        if (prev !== 0) {
          base = (finish(Math.imul(prev ^ 0x2545f491, FNV_PRIME) ^ h) & mask) * S;
          for (let k = 0; k < S; k++) acc[k] += screen[base + k];
          count++;
        }
        prev = h;
      }
    }
    return count;
  }

  /**
   * Adds char 3-5-grams and word 1-2-grams of `text`, each with weight `w`, in namespace `ns`; instruction text in
   * request form (REQUEST_FORM) also adds each word as a request-form word.
   */
  addText(text: string, ns: number, w: number): void {
    const n = text.length;
    if (n === 0) return;
    const request = this.requestForm && ns === NS_INSTRUCTION && REQUEST_FORM.test(text);
    if (this.folded.length < n + 2) this.folded = new Uint16Array(Math.max(n + 2, this.folded.length * 2));
    const buf = this.folded;
    // Fold and collapse runs of spaces; pad with one space each side so word boundaries form n-grams.
    let len = 0;
    buf[len++] = 32;
    for (let i = 0; i < n; i++) {
      const c = fold(text.charCodeAt(i));
      if (c === 32 && buf[len - 1] === 32) continue;
      buf[len++] = c;
    }
    if (buf[len - 1] !== 32) buf[len++] = 32;

    const charNs = ns ^ 0x9e3779b9;
    for (let i = 0; i + CHAR_MIN <= len; i++) {
      let h = charNs;
      const end = Math.min(len, i + CHAR_MAX);
      for (let j = i; j < end; j++) {
        h = Math.imul(h ^ buf[j], FNV_PRIME);
        if (j - i + 1 >= CHAR_MIN) this.add(h ^ (j - i), w);
      }
    }

    // Word unigrams and bigrams: hash each word, combine with the previous word's hash for the bigram.
    const wordW = w * 2;
    let prev = 0;
    let i = 0;
    while (i < len) {
      while (i < len && !isWordChar(buf[i])) i++;
      if (i >= len) break;
      let h = ns;
      while (i < len && isWordChar(buf[i])) h = Math.imul(h ^ buf[i++], FNV_PRIME);
      this.add(h, wordW);
      if (request) this.add(Math.imul(h ^ REQUEST_SALT, FNV_PRIME), wordW);
      if (prev !== 0) this.add(Math.imul(prev ^ 0x2545f491, FNV_PRIME) ^ h, wordW);
      prev = h;
    }
  }

  /** Scales the accumulated vector by 1/sqrt(n2) (so long and short texts score on one scale). */
  normalize(): void {
    const s = this.n2;
    if (s === 0) return;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < this.count; i++) this.values[this.touched[i]] *= inv;
  }
}
