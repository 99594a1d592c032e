/**
 * Input pipeline: conversation → views → pooled scores. Every character of every turn (system prompt, user and
 * assistant turns, tool results) is read; nothing is truncated.
 *
 * Per turn:
 * 1. The turn is split into instruction and code (segment.ts). Prose in code (comments, to-do comments, docstrings,
 *    string literals that read as prose) is lifted out as instruction text of its own (an instruction hidden in a
 *    comment or a docstring is still an instruction).
 * 2. The instruction is NFKC-folded, encodings are peeled (normalize.ts `peel`, nested to MAX_PEEL_DEPTH within a
 *    byte budget), then normalised (invisible characters, homoglyphs, leetspeak).
 * 3. The normalised instruction is cut into chunks of at most CHUNK_CHARS at sentence boundaries; whitespace runs
 *    collapse first, so padding changes nothing.
 * 4. Each chunk is scored on its own (raw logits + n2, see features.ts), with no code: pasted code or prose around
 *    an instruction cannot dilute it. The code is scored once and joins the whole-turn view as *context*, its weight
 *    capped so that its norm is at most CODE_CONTEXT_RATIO of the instruction's: that view is where "fix this code"
 *    is recognised, and harmful-looking code alone does not make a fix request offensive.
 * 5. Views: each chunk, each pair of adjacent chunks (a request cut by a chunk boundary is whole in one of them), the
 *    whole turn with its code, and the whole conversation (user turns and system prompt weighted by role — a request
 *    split across turns). A turn with no instruction is judged as code alone.
 * 6. Pooling: each label's score is its maximum over all views. A harmful instruction surrounded by pages of harmless
 *    text or code scores as it would alone.
 *
 * Cost is linear in the input: each character is hashed once; combining views costs O(K) each, since raw logits and
 * n2 add up.
 */
import type { ConversationText } from '../core/canonical.ts';
import { FeatureHasher, NS_CODE, NS_INSTRUCTION } from './features.ts';
import { JAILBREAK, TOPIC_LABELS, type Label, type Scores } from './labels.ts';
import { BIOCHEM_AGENTS, CYBER_OFFENSE, HARM_INTENT } from './lexicon.ts';
import { foldHomoglyphs, mayReadBetter, normalizeText, peel, SECTION, PEEL_BUDGET_CHARS, readsBetter, reverse, rot13, stripInvisible, WHOLE_TEXT_SAMPLE, type DecodeKind } from './normalize.ts';
import { splitInstructionAndCode } from './segment.ts';

export const CHUNK_CHARS = 400;
/** Chunks per window when a turn is too long to be judged whole (~3,200 characters). */
export const WINDOW_CHUNKS = 8;
/** Pasted code's share of a view: its norm is at most this fraction of the instruction's. */
export const CODE_CONTEXT_RATIO = 0.5;

/**
 * Turns longer than this many chunks (~25 KB) are screened: a cheap word-level pass over every chunk picks the ones
 * the full model scores (see ViewScorer.select). Shorter turns are scored in full.
 */
export const SCREEN_MIN_CHUNKS = 64;
/** Chunks at each end of a screened turn always scored in full (where instructions usually sit). */
export const SCREEN_EDGE_CHUNKS = 4;
/** Every SCREEN_SAMPLE_STRIDE-th chunk of a screened turn is scored in full whatever the screen says (a bounded sample). */
export const SCREEN_SAMPLE_STRIDE = 64;
/** A chunk whose screen value reaches this is scored in full (chosen on the train and dev splits, see BENCHMARKS.md). */
export const SCREEN_THRESHOLD = 0.9;
/** A neighbour of a flagged chunk is scored in full too when its own screen value reaches this. */
export const SCREEN_NEIGHBOUR_THRESHOLD = 0.5;

/**
 * In a screened (long) turn, each line (paragraph) of at least this many characters in a multi-line chunk that is
 * judged alone is also a view of its own: a request in a paragraph of its own cannot be diluted by the pages of
 * paragraphs packed around it. Shorter turns are not split into lines: there a line alone loses the context of the
 * request it belongs to ("fix this", "explain why"), and long harmless documents made of many short paragraphs would
 * be refused more often (each extra view is another chance of a false positive).
 */
export const MIN_LINE_VIEW_CHARS = 12;

/**
 * Views longer than this occurrence norm (n2 of about two chunks, ~800 characters) are damped: their logits are
 * `raw / n2 * sqrt(LONG_VIEW_N2)` instead of `raw / sqrt(n2)`. With the square-root normaliser alone, a long text
 * whose every feature leans a little one way (documentation full of "must", "never", "ignore", "you are") scores
 * more extreme the longer it is — windows of a harmless README read as a certain jailbreak. Training applies the same
 * scale to long examples (viewScale), so long jailbreak prompts are learnt at the scale they are judged at.
 */
export const LONG_VIEW_N2 = 2500;

/** The factor a view's raw logits are multiplied by (training and scoring alike). */
export function viewScale(n2: number): number {
  if (n2 <= 0) return 0;
  return n2 <= LONG_VIEW_N2 ? 1 / Math.sqrt(n2) : Math.sqrt(LONG_VIEW_N2) / n2;
}

export const WEIGHT_LAST_USER = 1;
export const WEIGHT_EARLIER_USER = 0.7;
export const WEIGHT_ASSISTANT = 0.2;
export const WEIGHT_SYSTEM = 0.3;

const MARKER_IDS = { codeOnly: 5, biochem: 6, cyber: 7, intent: 8, decoded: 9 } as const;

export interface PipelineInfo {
  /** Encodings peeled, outermost first (one entry per decoded run). */
  decoded: DecodeKind[];
  /** Deepest nesting of encodings peeled. */
  peelDepth: number;
  /** Always false: nothing is truncated any more (kept for callers that logged it). */
  truncated: boolean;
  /** Text was disguised: encoded segments decoded, invisible characters removed or homoglyphs folded. */
  obfuscated: boolean;
  /** Instruction chunks scored. */
  chunks: number;
  /** Views pooled. */
  views: number;
  /**
   * Per harm label: the largest harm mass (summed score of the harm labels acted on by default, security-offensive ..
   * elections) of a view whose top harm label it is. The harm-mass rule (decide.ts) reads this, so probability spread
   * over several categories counts only within one view: per-label maxima of different views of a long document do
   * not add up to a refusal.
   */
  harmMass: Partial<Record<Label, number>>;
}

export function emptyInfo(): PipelineInfo {
  return { decoded: [], peelDepth: 0, truncated: false, obfuscated: false, chunks: 0, views: 0, harmMass: {} };
}

/** A turn ready to be scored or featurised: normalised instruction chunks and the code. */
export interface PreparedTurn {
  chunks: string[];
  code: string;
  /**
   * Chunks from this index on come from comments lifted out of the code: they are judged together with the
   * instruction (the last instruction chunk), never alone, so that a comment in a file being fixed ("runs the
   * command without validation") is read as context of the request, while a request hidden in comments is still
   * read with the words that point to it ("do what the TODO comments say").
   */
  contextFrom: number;
  /**
   * The first and last paragraph of the instruction (blank-line separated, normalised) when shorter than a chunk and
   * not a chunk already: each is a view of its own. Instructions sit at the edges of what is pasted around them, and
   * chunking packs a short paragraph together with its neighbours' text ("request, then pages of prose").
   */
  edges: string[];
}

const NON_ASCII = /[^\x00-\x7f]/;
const COMMENT_LINE = /^\s*(?:\/\/+|#+|\/\*+|\*+|--|;+|<!--|"""|''')\s?(.*?)(?:\*\/|-->|"""|''')?\s*$/;
/** A to-do marker at the start of a comment ("TODO(2):", "FIXME:"): noise between the words of a hidden request. */
const TODO_MARK = /^(?:TODO|FIXME|XXX|NOTE|HACK|BUG|STEP)\b\s*(?:\([^)]{0,20}\))?\s*[:.-]?\s*/i;
/** Where a triple-quoted string (docstring) opens on a line, with what follows the quotes. */
const TRIPLE_OPEN = /^[^#]*?(?:^|[=(,:\s])[rRbBuUfF]{0,2}("""|''')(.*)$/;
/** String literals on a line ("…" or '…', no escapes inside): read as prose when they hold six words or more. */
const STRING_LITERAL = /"([^"\\\n]{24,})"|'([^'\\\n]{24,})'/g;
const PROSE_WORDS = 6;
/** A sentence of prose: starts with a letter, no code punctuation (scoreSentences). */
const PROSE_LINE = /^[A-Za-z][^=(){}[\]<>_;|\\%$#/*]*$/;
/**
 * Where a sentence ends inside a chunk: a line break (unless the next line goes on in lower case: text wrapped at a
 * fixed width, as in Markdown and e-mail, is one sentence over several lines), or a full stop, question or
 * exclamation mark, colon or semicolon (and a closing quote or bracket) followed by space and a capital letter or an
 * opening quote (scoreSentences).
 */
const SENTENCE_END = /\n(?![a-z])|[.!?:;]["'\u201d\u2019)\]]?[ \t]+(?=["'\u201c\u2018([]?[A-Z])/g;
/** Opening quotes, brackets and spaces before a sentence. */
const SENTENCE_LEAD = /^["'\u201c\u2018([\s]+/;

/** A sentence that reads as prose (PROSE_LINE_MIN_CHARS, PROSE_WORDS, no code punctuation): a view of its own. */
function isSentenceView(text: string): boolean {
  return text.length >= PROSE_LINE_MIN_CHARS && PROSE_LINE.test(text) && wordCount(text) >= PROSE_WORDS;
}

/** The sentences of a chunk (SENTENCE_END), leading quotes and brackets dropped; none when it is a single sentence. */
function sentencesOf(chunk: string): string[] {
  const out: string[] = [];
  SENTENCE_END.lastIndex = 0;
  let a = 0;
  while (a < chunk.length) {
    const m = SENTENCE_END.exec(chunk);
    const b = m === null ? chunk.length : m.index + 1;
    if (a === 0 && b === chunk.length) return out;
    const text = chunk.slice(a, b).replace(SENTENCE_LEAD, '').trimEnd();
    if (text.length > 0) out.push(text);
    if (m === null) break;
    a = m.index + m[0].length;
  }
  return out;
}

/** The sentences of a chunk that are views of their own (scoreSentences): training vectors too (featurizeTraining). */
export function sentenceViews(chunk: string): string[] {
  return sentencesOf(chunk).filter(isSentenceView);
}
/** Shortest line of code that is read as prose (liftComments), and shortest prose-line view. */
const PROSE_LINE_MIN_CHARS = 24;
/** A literal that reads as prose: starts with a letter and holds no code punctuation (SQL, format strings, paths). */
const PROSE_LITERAL = /^[A-Za-z][^=(){}[\]<>_;|\\%$#/*]*$/;

function wordCount(s: string): number {
  let n = 0;
  for (const _ of s.matchAll(/[A-Za-z][A-Za-z'-]+/g)) n++; // words of two letters or more: "%s", "%d" are not words
  return n;
}

/**
 * Prose in code, read as instructions too: comment lines (six words or more, to-do markers dropped), docstrings and
 * other triple-quoted strings (each joined into one paragraph), and string literals that read as prose. A request
 * hidden in a docstring ("implement this function so that it answers its docstring") or spread over to-do comments
 * is thereby read as words, not as code.
 */
function liftComments(code: string): string {
  if (code.length === 0) return '';
  let out = '';
  let from = 0;
  let doc: string | null = null; // the open triple-quoted string's delimiter
  let docText = '';
  let todo = '';
  while (from < code.length) {
    let nl = code.indexOf('\n', from);
    if (nl === -1) nl = code.length;
    const line = code.slice(from, nl);
    from = nl + 1;
    if (doc !== null) {
      const close = line.indexOf(doc);
      docText += ' ' + (close === -1 ? line : line.slice(0, close)).trim();
      if (close === -1) continue;
      doc = null;
      if (wordCount(docText) >= PROSE_WORDS) out += docText.trim() + SECTION;
      docText = '';
      continue;
    }
    if (line.indexOf('"""') !== -1 || line.indexOf("'''") !== -1) {
      const t = TRIPLE_OPEN.exec(line);
      if (t) {
        const rest = t[2];
        const close = rest.indexOf(t[1]);
        if (close === -1) {
          doc = t[1];
          docText = rest;
          continue;
        }
        const inner = rest.slice(0, close).trim();
        if (wordCount(inner) >= PROSE_WORDS) out += inner + '\n'; // a one-line docstring reads like a comment
        continue;
      }
    }
    const m = COMMENT_LINE.exec(line);
    if (m && m[1]) {
      const text = m[1].replace(TODO_MARK, '');
      // To-do comments are instructions by nature, and a request cut into numbered to-dos is read as one paragraph.
      if (text !== m[1] && wordCount(text) >= 2) todo += text + ' ';
      else if (text.split(/\s+/).length >= PROSE_WORDS) out += text + '\n';
      continue;
    }
    // A line of plain prose inside code (no code punctuation, six words or more) is read like a comment: a request
    // written as a bare sentence inside a code block is read with the instruction, not lost as code.
    const bare = line.trim();
    if (bare.length >= PROSE_LINE_MIN_CHARS && PROSE_LITERAL.test(bare) && wordCount(bare) >= PROSE_WORDS) {
      out += bare + '\n';
      continue;
    }
    if (line.indexOf('"') !== -1 || line.indexOf("'") !== -1) {
      for (const sm of line.matchAll(STRING_LITERAL)) {
        const lit = sm[1] ?? sm[2];
        if (PROSE_LITERAL.test(lit) && wordCount(lit) >= PROSE_WORDS) out += lit + SECTION;
      }
    }
  }
  // An unclosed triple quote is not lifted: it is more likely the closing quote of a string cut off above (a pasted
  // fragment) than a docstring, and what follows it is code.
  return todo.length > 0 ? out + SECTION + todo.trimEnd() + SECTION : out;
}

/** Cuts normalised text into chunks of at most CHUNK_CHARS, preferring sentence ends, then spaces. Whitespace collapses. */
export function chunkText(text: string): string[] {
  const out: string[] = [];
  if (text.indexOf(SECTION) !== -1) {
    for (const part of text.split(SECTION)) for (const c of chunkText(part)) out.push(c); // no spread: arrays can be long
    return out;
  }
  const t = text.replace(/[ \t\f\v\r\u00a0\u2000-\u200a\u3000]+/g, ' ').replace(/ ?\n[\s]*/g, '\n').trim();
  let at = 0;
  while (at < t.length) {
    let end = Math.min(t.length, at + CHUNK_CHARS);
    if (end < t.length) {
      let cut = -1;
      for (let i = end - 1; i > at + CHUNK_CHARS / 2; i--) {
        const c = t.charCodeAt(i);
        if (c === 10 || ((c === 46 || c === 63 || c === 33) && t.charCodeAt(i + 1) === 32)) {
          cut = i + 1;
          break;
        }
      }
      if (cut === -1) for (let i = end - 1; i > at + CHUNK_CHARS / 2; i--) if (t.charCodeAt(i) === 32) { cut = i + 1; break; }
      if (cut !== -1) end = cut;
    }
    const piece = t.slice(at, end).trim();
    if (piece.length > 0) out.push(piece);
    at = end;
  }
  return out;
}

/**
 * An instruction that hands the request over to the prose in the code ("do exactly what the TODO comments say",
 * "return a complete answer to its docstring"): there the comments and docstrings *are* the request, and they are
 * judged alone like any instruction rather than only beside the words pointing at them.
 */
const DEFERS_TO_CODE_PROSE =
  /\b(?:follow|obey|do|carry out|answer|implement|complete|execute|perform|fulfil|fulfill)\b[^.\n]{0,60}\b(?:comments?|docstrings?|todos?|to-dos?)\b|\b(?:comments?|docstrings?|todos?|to-dos?)\b[^.\n]{0,60}\b(?:do (?:exactly |precisely )?what (?:they|it) (?:says?|asks?)|in full|answer (?:them|it))\b/i;

/** Segments, peels and normalises one turn. */
export function prepareTurn(raw: string, info: PipelineInfo, budget: { chars: number }): PreparedTurn {
  const { instruction: instr0, code } = splitInstructionAndCode(raw);
  const lifted = liftComments(code);
  const p = prepareText(instr0, info, budget);
  const edges = edgeParagraphs(instr0, p);
  if (lifted.length === 0) return { chunks: p, code, contextFrom: p.length, edges };
  if (p.length === 0) return { chunks: prepareText(lifted, info, budget), code, contextFrom: 0, edges };
  const seen = new Set(p);
  const comments = prepareText(lifted, info, budget).filter((c) => !seen.has(c));
  const chunks = [...p, ...comments];
  return { chunks, code, contextFrom: DEFERS_TO_CODE_PROSE.test(instr0) ? chunks.length : p.length, edges };
}

const PARAGRAPH_BREAK = /\n[ \t]*\n/;

/** PreparedTurn.edges: the first and last paragraph, normalised, when short, worded and not already a chunk. */
function edgeParagraphs(instruction: string, chunks: readonly string[]): string[] {
  if (!PARAGRAPH_BREAK.test(instruction)) return [];
  const first = instruction.slice(0, instruction.search(PARAGRAPH_BREAK));
  const lastBreak = instruction.trimEnd().lastIndexOf('\n\n');
  const last = lastBreak === -1 ? '' : instruction.slice(lastBreak + 2);
  const out: string[] = [];
  for (const para of [first, last]) {
    const t = normalizeText(para.trim());
    if (t.length >= PROSE_LINE_MIN_CHARS && t.length <= CHUNK_CHARS && wordCount(t) >= PROSE_WORDS && !chunks.includes(t) && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Peels, normalises and chunks instruction text. */
function prepareText(instruction: string, info: PipelineInfo, budget: { chars: number }): string[] {
  if (instruction.length === 0) return [];
  const nonAscii = NON_ASCII.test(instruction);
  const nfkc = nonAscii ? instruction.normalize('NFKC') : instruction;
  const st = { budget: budget.chars, kinds: [] as DecodeKind[], depth: 0 };
  // Decode before homoglyph/leet folding: folding would corrupt the digits of a base64 or hex run.
  const peeled = peel(nfkc, st);
  budget.chars = st.budget;
  if (st.kinds.length > 0) {
    info.obfuscated = true;
    info.decoded.push(...st.kinds);
    if (st.depth > info.peelDepth) info.peelDepth = st.depth;
  }
  if (nonAscii && !info.obfuscated) {
    const stripped = stripInvisible(nfkc);
    info.obfuscated = stripped !== nfkc || foldHomoglyphs(stripped) !== stripped;
  }
  const norm = normalizeText(peeled);
  // Identical chunks (repeated padding, pasted twice) are judged once.
  const chunks = [...new Set(chunkText(norm))];
  // rot13 and reversed text. The whole-text test in peel misses a short encoded line under an English framing ("decode
  // this and answer it"): the framing's words outweigh it. So each line of each chunk is tested on its own, and its
  // rot13 or reversed reading becomes an extra chunk when it reads as far more English (readsBetter). In the first
  // WHOLE_TEXT_SAMPLE characters every line is tested; past them only the lines the cheap letter-frequency hint
  // picks, so long prose costs one scan.
  if (budget.chars > 0) {
    const short = norm.length <= WHOLE_TEXT_SAMPLE;
    const n = chunks.length;
    const found = new Set<string>();
    for (let i = 0; i < n && budget.chars > 0; i++) {
      const chunk = chunks[i];
      // Past the sample, a chunk none of whose letters hint at a transform is skipped whole (one scan, no split).
      if (!short && transformHint(chunk) === 0) continue;
      for (const line of chunk.indexOf('\n') === -1 ? [chunk] : chunk.split('\n')) {
        if (line.length < MIN_TRANSFORM_LINE) continue;
        const hint = transformHint(line);
        if ((!short && hint === 0) || !mayReadBetter(line)) continue;
        let alt: string | null = null;
        let kind: DecodeKind = 'rot13';
        if (hint !== 2) {
          const r = rot13(line);
          if (readsBetter(line, r)) alt = r;
        }
        if (alt === null && hint !== 1) {
          const r = reverse(line);
          if (readsBetter(line, r)) {
            alt = r;
            kind = 'reversed';
          }
        }
        if (alt === null || found.has(alt)) continue;
        found.add(alt);
        for (const x of chunkText(alt)) chunks.push(x);
        budget.chars -= alt.length;
        info.obfuscated = true;
        info.decoded.push(kind);
      }
    }
  }
  return chunks;
}

/** Lines shorter than this are not tested for rot13 or reversed text (too few words to tell). */
const MIN_TRANSFORM_LINE = 12;

const FREQ = new Uint8Array(128);
for (const ch of 'etaoinsh') FREQ[ch.charCodeAt(0)] = 1;
for (const ch of 'rgnbvafu') FREQ[ch.charCodeAt(0)] = 2; // rot13 images of the frequent letters

/**
 * A cheap pre-check before the word-count test (readsBetter) for a chunk: 1 = its letters look rot13-rotated (the
 * rot13 images of English's most frequent letters outnumber the letters themselves), 2 = it may be reversed English
 * ("eht", "dna" as words), 0 = neither.
 */
function transformHint(c: string): 0 | 1 | 2 {
  let common = 0;
  let rotated = 0;
  for (let i = 0; i < c.length; i++) {
    const x = c.charCodeAt(i) | 32;
    if (x < 128) {
      const f = FREQ[x];
      if (f === 1) common++;
      else if (f === 2) rotated++;
    }
  }
  // rot13 of English puts ~55% of its letters in the rotated set and ~17% in the common one; random letters split
  // evenly. Twice as many is a safe margin and keeps the (costly) word-count test off ordinary text.
  if (rotated > 2 * common) return 1;
  return / (eht|dna|ot|fo|uoy|woh|si) /i.test(c) ? 2 : 0;
}

function lexiconMarkers(chunk: string): number {
  return (BIOCHEM_AGENTS.test(chunk) ? 1 : 0) | (CYBER_OFFENSE.test(chunk) ? 2 : 0) | (HARM_INTENT.test(chunk) ? 4 : 0);
}

/** Scores conversations: one instance owns scratch buffers (one per thread). */
export class ViewScorer {
  private readonly K: number;
  private readonly KT: number;
  private pool: Float64Array;
  private n2s: Float64Array;
  private readonly view: Float64Array;
  private readonly conv: Float64Array;
  private readonly turn: Float64Array;
  private readonly code: Float64Array;
  private readonly z: Float64Array;
  private readonly windowBuf: Float64Array;
  readonly best: Float64Array;
  /** Per topic label: the largest harm mass of a view it tops (PipelineInfo.harmMass). */
  private readonly bestMass: Float64Array;
  /** Per slot: how far its weights lean from benign towards the most harmful label (or the jailbreak head). */
  readonly screen: Float32Array;
  private selected: Uint8Array;
  private screenVals = new Float32Array(64);
  private readonly screenAcc = new Float64Array(SCREEN_COLS);
  private readonly screenTotal = new Float64Array(SCREEN_COLS);
  private readonly lineBuf: Float64Array;

  constructor(
    private readonly hasher: FeatureHasher,
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
  ) {
    this.K = bias.length;
    this.KT = this.K - 1;
    this.pool = new Float64Array(64 * this.K);
    this.n2s = new Float64Array(64);
    this.view = new Float64Array(this.K);
    this.conv = new Float64Array(this.K);
    this.turn = new Float64Array(this.K);
    this.code = new Float64Array(this.K);
    this.z = new Float64Array(this.K);
    this.windowBuf = new Float64Array(this.K);
    this.best = new Float64Array(this.K);
    this.bestMass = new Float64Array(this.K);
    this.selected = new Uint8Array(64);
    this.lineBuf = new Float64Array(this.K);
    this.screen = screenWeights(weights, this.K);

  }

  /** The screen value of one chunk (word features only, see FeatureHasher.screenText). */
  screenChunk(chunk: string): number {
    if (chunk.indexOf('\n') === -1) return this.screenRange(chunk, 0, chunk.length);
    // The highest value over each line and the whole chunk (lines are views of their own in screened turns,
    // MIN_LINE_VIEW_CHARS). One pass: the chunk's sums are the lines' sums (bigrams across a line break aside).
    const acc = this.screenAcc;
    const total = this.screenTotal;
    total.fill(0);
    let totalCount = 0;
    let best = -Infinity;
    let a = 0;
    while (a < chunk.length) {
      let b = chunk.indexOf('\n', a);
      if (b === -1) b = chunk.length;
      const count = this.hasher.screenText(chunk, NS_INSTRUCTION, this.screen, SCREEN_COLS, acc, a, b);
      if (count > 0) {
        let m = -Infinity;
        for (let k = 0; k < SCREEN_COLS; k++) {
          total[k] += acc[k];
          if (acc[k] > m) m = acc[k];
        }
        totalCount += count;
        if (b - a >= MIN_LINE_VIEW_CHARS) {
          const v = m / Math.sqrt(count);
          if (v > best) best = v;
        }
      }
      a = b + 1;
    }
    if (totalCount > 0) {
      let m = -Infinity;
      for (let k = 0; k < SCREEN_COLS; k++) if (total[k] > m) m = total[k];
      const v = m / Math.sqrt(totalCount);
      if (v > best) best = v;
    }
    return best;
  }

  private screenRange(text: string, start: number, end: number): number {
    const acc = this.screenAcc;
    const count = this.hasher.screenText(text, NS_INSTRUCTION, this.screen, SCREEN_COLS, acc, start, end);
    if (count === 0) return -Infinity;
    let m = -Infinity;
    for (let k = 0; k < SCREEN_COLS; k++) if (acc[k] > m) m = acc[k];
    return m / Math.sqrt(count);
  }

  /**
   * Chunks of a long turn the full model scores: the first and last SCREEN_EDGE_CHUNKS, every SCREEN_SAMPLE_STRIDE-th,
   * the anchor of comment chunks, every chunk whose screen value reaches SCREEN_THRESHOLD, and the neighbours of
   * those that lean harmful themselves (a request cut by a chunk boundary is whole in a pair view). Every chunk is
   * still read (by the screen).
   */
  private select(p: PreparedTurn): Uint8Array {
    const n = p.chunks.length;
    if (this.selected.length < n) {
      this.selected = new Uint8Array(Math.max(n, this.selected.length * 2));
      this.screenVals = new Float32Array(this.selected.length);
    }
    const sel = this.selected;
    const v = this.screenVals;
    for (let i = 0; i < n; i++) v[i] = this.screenChunk(p.chunks[i]);
    for (let i = 0; i < n; i++) {
      sel[i] =
        i < SCREEN_EDGE_CHUNKS || i >= n - SCREEN_EDGE_CHUNKS || i % SCREEN_SAMPLE_STRIDE === 0 || i === p.contextFrom - 1 || v[i] >= SCREEN_THRESHOLD
          ? 1
          : // a neighbour of a flagged chunk that leans harmful itself: the other half of a request cut at the boundary
            v[i] >= SCREEN_NEIGHBOUR_THRESHOLD && ((i > 0 && v[i - 1] >= SCREEN_THRESHOLD) || (i + 1 < n && v[i + 1] >= SCREEN_THRESHOLD))
            ? 1
            : 0;
    }
    return sel;
  }

  /** Pools `raw / sqrt(n2)` (+ bias) into `best`: softmax over topics, sigmoid jailbreak, per-label max. */
  private pool1(raw: Float64Array, n2: number, info: PipelineInfo): void {
    const K = this.K;
    const KT = this.KT;
    const z = this.z;
    const inv = viewScale(n2);
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      z[k] = this.bias[k] + raw[k] * inv;
      if (k < KT && z[k] > max) max = z[k];
    }
    let sum = 0;
    for (let k = 0; k < KT; k++) {
      z[k] = Math.exp(z[k] - max);
      sum += z[k];
    }
    let mass = 0;
    let top = MASS_FIRST;
    for (let k = MASS_FIRST; k < MASS_END; k++) {
      mass += z[k];
      if (z[k] > z[top]) top = k;
    }
    mass /= sum;
    const pj = 1 / (1 + Math.exp(-z[KT]));
    const best = this.best;
    for (let k = 0; k < KT; k++) {
      const p = z[k] / sum;
      if (p > best[k]) best[k] = p;
    }
    if (mass > this.bestMass[top]) this.bestMass[top] = mass;
    if (pj > best[KT]) best[KT] = pj;
    info.views++;
  }

  /** A view = instruction part (raw, n2) + code context capped at CODE_CONTEXT_RATIO of the instruction's norm. */
  private poolWithCode(raw: Float64Array, n2: number, codeN2: number, info: PipelineInfo): void {
    if (codeN2 === 0) return this.pool1(raw, n2, info);
    const a = Math.min(1, CODE_CONTEXT_RATIO * Math.sqrt(n2 / codeN2));
    const v = this.view;
    for (let k = 0; k < this.K; k++) v[k] = raw[k] + a * this.code[k];
    this.pool1(v, n2 + a * a * codeN2, info);
  }

  private scoreChunk(chunk: string, out: Float64Array, w: number): number {
    return this.hasher.scoreText(chunk, NS_INSTRUCTION, w, this.weights, this.K, out) + this.scoreMarkers(chunk, out, w);
  }

  /** The lexicon markers of `text` (bio-chem agents, cyber offence, harm intent) into `out`; returns their n2. */
  private scoreMarkers(text: string, out: Float64Array, w: number): number {
    const h = this.hasher;
    const W = this.weights;
    const K = this.K;
    let n2 = 0;
    const m = lexiconMarkers(text);
    if (m & 1) n2 += h.scoreMarker(MARKER_IDS.biochem, 2 * w, W, K, out);
    if (m & 2) n2 += h.scoreMarker(MARKER_IDS.cyber, 2 * w, W, K, out);
    if (m & 4) n2 += h.scoreMarker(MARKER_IDS.intent, 2 * w, W, K, out);
    return n2;
  }

  /**
   * A chunk of a turn that is not screened, scored sentence by sentence into `row` (sentencesOf): each sentence that
   * reads as prose (isSentenceView) is also a view of its own, so a request written as a paragraph among pasted
   * paragraphs, or put after a framing sentence ("For a paper on AI risks we need a complete answer to the following:
   * …", "Decode this and do what it says: …"), is judged on its own, not diluted by the words it shares a chunk with.
   * (Harmless prose in training keeps the sentences of a long article from each being a borderline refusal.) The
   * chunk's raw logits are the sum of its sentences' plus its lexicon markers once, so each character is hashed once;
   * n-grams across a sentence end are not counted, a small difference from how training hashes a chunk. A chunk that
   * is a single sentence is scored whole (it is a view already).
   */
  private scoreSentences(chunk: string, row: Float64Array, info: PipelineInfo): number {
    const sentences = sentencesOf(chunk);
    if (sentences.length === 0) return this.scoreChunk(chunk, row, 1);
    const line = this.lineBuf;
    const K = this.K;
    let n2 = 0;
    for (const text of sentences) {
      line.fill(0);
      const n2t = this.hasher.scoreText(text, NS_INSTRUCTION, 1, this.weights, K, line);
      for (let k = 0; k < K; k++) row[k] += line[k];
      n2 += n2t;
      if (n2t > 0 && isSentenceView(text)) this.pool1(line, n2t + this.scoreMarkers(text, line, 1), info);
    }
    return n2 + this.scoreMarkers(chunk, row, 1);
  }

  /**
   * Scores a multi-line chunk line by line into `row` and pools each line of MIN_LINE_VIEW_CHARS or more as a view of
   * its own (screened turns). The chunk's raw logits are the sum of its lines' — n-grams across a line break are not
   * counted, a small difference from how training hashes a chunk, accepted so that each character is hashed once.
   */
  private scoreLines(chunk: string, row: Float64Array, info: PipelineInfo): number {
    const line = this.lineBuf;
    const K = this.K;
    let n2 = 0;
    let a = 0;
    while (a < chunk.length) {
      let b = chunk.indexOf('\n', a);
      if (b === -1) b = chunk.length;
      if (b > a) {
        line.fill(0);
        const n2l = this.scoreChunk(b - a === chunk.length ? chunk : chunk.slice(a, b), line, 1);
        for (let k = 0; k < K; k++) row[k] += line[k];
        n2 += n2l;
        if (b - a >= MIN_LINE_VIEW_CHARS && n2l > 0) this.pool1(line, n2l, info);
      }
      a = b + 1;
    }
    return n2;
  }

  /** Scores one turn's views into `best`; leaves the whole-turn raw logits in `this.turn` and returns its n2. */
  private scoreTurn(p: PreparedTurn, info: PipelineInfo): number {
    const K = this.K;
    const n = p.chunks.length;
    if (this.n2s.length < n) {
      this.n2s = new Float64Array(Math.max(n, this.n2s.length * 2));
      this.pool = new Float64Array(this.n2s.length * K);
    }
    const code = this.code;
    code.fill(0);
    let codeN2 = 0;
    if (p.code.length > 0) {
      codeN2 = this.hasher.scoreText(p.code, NS_CODE, 1, this.weights, K, code);
      if (n === 0) codeN2 += this.hasher.scoreMarker(MARKER_IDS.codeOnly, 1, this.weights, K, code);
    }
    const turn = this.turn;
    turn.fill(0);
    let turnN2 = 0;
    const pool = this.pool;
    const sel = n > SCREEN_MIN_CHUNKS ? this.select(p) : null;
    for (let i = 0; i < n; i++) {
      if (sel !== null && sel[i] === 0) {
        this.n2s[i] = 0; // screened out: contributes nothing to windows, forms no pair view
        continue;
      }
      const row = pool.subarray(i * K, (i + 1) * K);
      row.fill(0);
      const alone = i < p.contextFrom || p.contextFrom === 0;
      const multiLine = alone && p.chunks[i].indexOf('\n') !== -1;
      // Screened turns: lines are views (scoreLines); other turns: sentences (scoreSentences). Comment chunks: whole.
      let n2: number;
      if (!alone) n2 = this.scoreChunk(p.chunks[i], row, 1);
      else if (sel === null) n2 = this.scoreSentences(p.chunks[i], row, info);
      else n2 = multiLine ? this.scoreLines(p.chunks[i], row, info) : this.scoreChunk(p.chunks[i], row, 1);
      this.n2s[i] = n2;
      for (let k = 0; k < K; k++) turn[k] += row[k];
      turnN2 += n2;
      // Instruction chunks are judged alone: surrounding code cannot pull them towards "coding". Comment chunks are
      // judged with the last instruction chunk.
      const anchor = i < p.contextFrom ? -1 : p.contextFrom - 1;
      if (alone) this.pool1(row, n2, info);
      const prev = anchor >= 0 ? anchor : i > 0 && i < p.contextFrom ? i - 1 : i > p.contextFrom ? i - 1 : -1;
      if (prev >= 0 && this.n2s[prev] > 0) {
        const v = this.view;
        for (let k = 0; k < K; k++) v[k] = pool[prev * K + k] + row[k];
        this.pool1(v, this.n2s[prev] + n2, info);
      }
    }
    for (const edge of p.edges) {
      const line = this.lineBuf;
      line.fill(0);
      const n2e = this.scoreChunk(edge, line, 1);
      if (n2e > 0) this.pool1(line, n2e, info);
    }
    // The whole turn with its code as context: where "fix this code" is recognised. A long turn is judged in windows
    // of WINDOW_CHUNKS chunks (stride half a window): the occurrence norm would otherwise sharpen the scores of
    // long, repetitive text.
    if (n <= WINDOW_CHUNKS) {
      if (n > 2 || codeN2 > 0) this.poolWithCode(turn, turnN2, codeN2, info);
    } else {
      const v = this.windowBuf;
      for (let s = 0; s < n; s += WINDOW_CHUNKS / 2) {
        const e = Math.min(n, s + WINDOW_CHUNKS);
        v.fill(0);
        let wn2 = 0;
        for (let i = s; i < e; i++) {
          if (this.n2s[i] === 0) continue;
          for (let k = 0; k < K; k++) v[k] += pool[i * K + k];
          wn2 += this.n2s[i];
        }
        if (wn2 > 0) this.poolWithCode(v, wn2, codeN2, info);
        if (e === n) break;
      }
    }
    if (n === 0) {
      if (codeN2 > 0) {
        for (let k = 0; k < K; k++) turn[k] = code[k];
        this.pool1(code, codeN2, info);
        return codeN2;
      }
      return 0;
    }
    info.chunks += n;
    // The whole-turn raw logits include the capped code context, for the conversation view.
    const a = codeN2 === 0 ? 0 : Math.min(1, CODE_CONTEXT_RATIO * Math.sqrt(turnN2 / codeN2));
    for (let k = 0; k < K; k++) turn[k] += a * code[k];
    return turnN2 + a * a * codeN2;
  }

  score(conv: ConversationText, info: PipelineInfo): Scores {
    const K = this.K;
    this.best.fill(0);
    this.bestMass.fill(0);
    this.conv.fill(0);
    let convN2 = 0;
    const budget = { chars: PEEL_BUDGET_CHARS };
    let lastUser = -1;
    for (let i = conv.turns.length - 1; i >= 0; i--) {
      if (conv.turns[i].role === 'user') {
        lastUser = i;
        break;
      }
    }
    let userTurns = 0;
    const add = (text: string, w: number) => {
      const p = prepareTurn(text, info, budget);
      const n2 = this.scoreTurn(p, info);
      // Long turns are judged by their own windows; the conversation view joins the short ones (a request split
      // across turns is made of short turns).
      if (n2 > 0 && p.chunks.length <= WINDOW_CHUNKS) {
        for (let k = 0; k < K; k++) this.conv[k] += w * this.turn[k];
        convN2 += w * w * n2;
      }
    };
    if (typeof conv.system === 'string' && conv.system.length > 0) add(conv.system, WEIGHT_SYSTEM);
    for (let i = 0; i < conv.turns.length; i++) {
      const t = conv.turns[i];
      if (typeof t.text !== 'string' || t.text.length === 0) continue;
      if (t.role === 'user') userTurns++;
      add(t.text, i === lastUser ? WEIGHT_LAST_USER : t.role === 'user' ? WEIGHT_EARLIER_USER : WEIGHT_ASSISTANT);
    }
    if (userTurns > 1 || (conv.system && userTurns > 0)) this.pool1(this.conv, convN2, info);
    if (info.views === 0) this.pool1(this.conv, 0, info); // empty input: the bias alone
    const out = {} as Scores;
    for (let k = 0; k < this.KT; k++) out[TOPIC_LABELS[k]] = this.best[k];
    out[JAILBREAK] = this.best[this.KT];
    for (let k = MASS_FIRST; k < MASS_END; k++) if (this.bestMass[k] > 0) info.harmMass[TOPIC_LABELS[k]] = this.bestMass[k];
    return out;
  }
}

/** Topic indices of the harm labels acted on by default (security-offensive .. elections): the harm mass of a view. */
const MASS_FIRST = 3;
const MASS_END = 16;

/** Columns of the screen matrix: the acted-on harm labels (security-offensive .. elections) and the jailbreak head. */
const SCREEN_FIRST = 3;
export const SCREEN_COLS = 13 + 1;

/**
 * Screen weights derived from the model at load time (no separate artefact): per slot, each acted-on harm label's
 * weight minus benign's, and the jailbreak weight. A chunk's screen value is the word features' share of the largest
 * harm-over-benign logit margin (or jailbreak logit), normalised like the model's.
 */
export function screenWeights(weights: Float32Array, K: number): Float32Array {
  const dim = weights.length / K;
  const S = SCREEN_COLS;
  const out = new Float32Array(dim * S);
  for (let s = 0; s < dim; s++) {
    const base = s * K;
    const benign = weights[base]; // TOPIC_LABELS[0] is benign
    for (let k = 0; k < S - 1; k++) out[s * S + k] = weights[base + SCREEN_FIRST + k] - benign;
    out[s * S + S - 1] = weights[base + K - 1];
  }
  return out;
}

/**
 * Adds one prepared turn (instruction chunks, markers, capped code context) to `h` with weight `w` (aggregate sink).
 * `decoded` adds the decoded-content marker: only the ONNX feature vector (featurize) carries it; the linear model's
 * training and scoring read decoded text as plain text.
 */
function addPrepared(h: FeatureHasher, parts: readonly string[], code: string, w: number, decoded: boolean): void {
  const n2Before = h.n2;
  for (const c of parts) {
    h.addText(c, NS_INSTRUCTION, w);
    const m = lexiconMarkers(c);
    if (m & 1) h.addMarker(MARKER_IDS.biochem, 2 * w);
    if (m & 2) h.addMarker(MARKER_IDS.cyber, 2 * w);
    if (m & 4) h.addMarker(MARKER_IDS.intent, 2 * w);
    if (decoded) h.addMarker(MARKER_IDS.decoded, w);
  }
  const instrN2 = h.n2 - n2Before;
  const instrCount = h.count;
  if (code.length > 0) {
    const before = h.n2;
    h.addText(code, NS_CODE, w);
    if (parts.length === 0) h.addMarker(MARKER_IDS.codeOnly, w);
    const codeN2 = h.n2 - before;
    if (instrN2 > 0 && codeN2 > 0) {
      const a = Math.min(1, CODE_CONTEXT_RATIO * Math.sqrt(instrN2 / codeN2));
      for (let i = instrCount; i < h.count; i++) h.values[h.touched[i]] *= a;
      h.n2 = before + a * a * codeN2;
    }
  }
}

function sparse(h: FeatureHasher): { idx: Int32Array; val: Float32Array } {
  const scale = viewScale(h.n2);
  const idx = new Int32Array(h.count);
  const val = new Float32Array(h.count);
  for (let i = 0; i < h.count; i++) {
    idx[i] = h.touched[i];
    val[i] = h.values[h.touched[i]] * scale;
  }
  return { idx, val };
}

/**
 * Training featurisation of one text: the whole-turn view as a sparse vector (same features, same normaliser and
 * same code cap as scoring), the instruction without its code when there is code, plus — when `withChunks` — each
 * chunk view on its own.
 */
export function featurizeTraining(h: FeatureHasher, text: string, withChunks: boolean): { idx: Int32Array; val: Float32Array }[] {
  const info = emptyInfo();
  const p = prepareTurn(text, info, { chars: PEEL_BUDGET_CHARS });
  const out: { idx: Int32Array; val: Float32Array }[] = [];
  h.reset();
  addPrepared(h, p.chunks, p.code, 1, false);
  out.push(sparse(h));
  // The instruction alone is a view at inference, so it is a training vector too.
  if (p.code.length > 0 && p.chunks.length > 0) {
    h.reset();
    addPrepared(h, p.chunks, '', 1, false);
    out.push(sparse(h));
  }
  if (withChunks && p.chunks.length > 1)
    for (const c of p.chunks) {
      h.reset();
      addPrepared(h, [c], p.code, 1, false);
      out.push(sparse(h));
    }
  // Sentences are views of their own at inference (scoreSentences), so harmless sentences must score harmless alone.
  if (withChunks)
    for (const c of p.chunks.slice(0, p.contextFrom === 0 ? p.chunks.length : p.contextFrom))
      for (const sentence of sentenceViews(c)) {
        h.reset();
        addPrepared(h, [sentence], '', 1, false);
        out.push(sparse(h));
      }
  return out;
}

/**
 * The whole conversation as one normalised vector in `h` (turns weighted by role): the input of an ONNX cascade
 * stage trained on these features.
 */
export function featurize(h: FeatureHasher, conv: ConversationText): PipelineInfo {
  h.reset();
  const info = emptyInfo();
  const budget = { chars: PEEL_BUDGET_CHARS };
  let lastUser = -1;
  for (let i = conv.turns.length - 1; i >= 0; i--) if (conv.turns[i].role === 'user') { lastUser = i; break; }
  const add = (text: string, w: number) => {
    const before = info.decoded.length;
    const p = prepareTurn(text, info, budget);
    addPrepared(h, p.chunks, p.code, w, info.decoded.length > before);
  };
  if (typeof conv.system === 'string' && conv.system.length > 0) add(conv.system, WEIGHT_SYSTEM);
  conv.turns.forEach((t, i) => {
    if (typeof t.text === 'string' && t.text.length > 0) add(t.text, i === lastUser ? WEIGHT_LAST_USER : t.role === 'user' ? WEIGHT_EARLIER_USER : WEIGHT_ASSISTANT);
  });
  h.normalize();
  return info;
}

/** Convenience: a single user message as a conversation. */
export function singleTurn(text: string): ConversationText {
  return { system: null, turns: [{ role: 'user', text }] };
}
