/**
 * Input pipeline: conversation → feature vector. Weighs the last user turn highest but keeps earlier turns and the
 * system prompt (a harmful request split over turns, or set up by the system prompt, is still seen).
 *
 * Windowing for huge inputs: each turn contributes at most its first HEAD_CHARS and last TAIL_CHARS characters, and
 * only the last MAX_TURNS turns count. So a 1 MB prompt costs the same as a ~16 KB one (bounded latency); the price is
 * that text buried in the middle of a huge turn is not seen, which `truncated` reports.
 */
import type { ConversationText } from '../core/canonical.ts';
import { FeatureHasher, NS_CODE, NS_INSTRUCTION } from './features.ts';
import { decodeSegments, foldHomoglyphs, normalizeText, stripInvisible } from './normalize.ts';
import { splitInstructionAndCode } from './segment.ts';
import { BIOCHEM_AGENTS, CYBER_OFFENSE, HARM_INTENT } from './lexicon.ts';

export const HEAD_CHARS = 12_000;
export const TAIL_CHARS = 4_000;
export const MAX_TURNS = 32;

export const WEIGHT_LAST_USER = 1;
export const WEIGHT_EARLIER_USER = 0.7;
export const WEIGHT_ASSISTANT = 0.2;
export const WEIGHT_SYSTEM = 0.3;
/** Pasted code counts, but far less than the words of the request. */
export const CODE_FACTOR = 0.25;

const MARKER_IDS = { base64: 1, hex: 2, rot13: 3, truncated: 4, codeOnly: 5, biochem: 6, cyber: 7, intent: 8 } as const;

export interface PipelineInfo {
  decoded: ('base64' | 'hex' | 'rot13')[];
  truncated: boolean;
  /** Text was disguised: encoded segments decoded, invisible characters removed or homoglyphs folded. */
  obfuscated: boolean;
}

function clip(text: string): { text: string; truncated: boolean } {
  if (text.length <= HEAD_CHARS + TAIL_CHARS) return { text, truncated: false };
  return { text: text.slice(0, HEAD_CHARS) + '\n' + text.slice(text.length - TAIL_CHARS), truncated: true };
}

/** Adds one turn's text to the hasher; returns what was decoded. */
function addTurn(h: FeatureHasher, raw: string, weight: number, info: PipelineInfo): void {
  const { text, truncated } = clip(raw);
  if (truncated) {
    info.truncated = true;
    h.addMarker(MARKER_IDS.truncated, weight * 0.5);
  }
  const { instruction, code } = splitInstructionAndCode(text);
  // Decode before homoglyph/leet folding: folding would corrupt the digits of a base64 or hex run.
  let pre = stripInvisible(instruction.normalize('NFKC'));
  if (!info.obfuscated && instruction.length > 0) {
    const nfkc = instruction.normalize('NFKC');
    info.obfuscated = pre !== nfkc || foldHomoglyphs(pre) !== pre;
  }
  // Decoded content replaces its encoding in the instruction: hiding a request in base64 must not hide it, and the
  // encoded run's own n-grams are noise.
  const decoded = decodeSegments(pre);
  if (decoded.length > 0) {
    info.obfuscated = true;
    let rebuilt = '';
    let at = 0;
    for (const seg of decoded) {
      info.decoded.push(seg.kind);
      h.addMarker(MARKER_IDS[seg.kind], weight);
      if (seg.start < at) {
        rebuilt += ' ' + seg.text; // overlapping detections (e.g. rot13 over the whole text): append
        continue;
      }
      rebuilt += pre.slice(at, seg.start) + ' ' + seg.text + ' ';
      at = seg.end;
    }
    pre = rebuilt + pre.slice(at);
  }
  const norm = normalizeText(pre);
  h.addText(norm, NS_INSTRUCTION, weight);
  // Lexicon markers look at the instruction only: an `exploit()` function in pasted code is not a hit.
  if (BIOCHEM_AGENTS.test(norm)) h.addMarker(MARKER_IDS.biochem, weight * 2);
  if (CYBER_OFFENSE.test(norm)) h.addMarker(MARKER_IDS.cyber, weight * 2);
  if (HARM_INTENT.test(norm)) h.addMarker(MARKER_IDS.intent, weight * 2);
  if (code.length > 0) {
    h.addText(stripInvisible(code.normalize('NFKC')), NS_CODE, weight * CODE_FACTOR);
    if (norm.trim().length === 0) h.addMarker(MARKER_IDS.codeOnly, weight);
  }
}

/** Fills `h` (after reset) with the normalised features of `conv`. */
export function featurize(h: FeatureHasher, conv: ConversationText): PipelineInfo {
  h.reset();
  const info: PipelineInfo = { decoded: [], truncated: false, obfuscated: false };
  const turns = conv.turns.length > MAX_TURNS ? conv.turns.slice(conv.turns.length - MAX_TURNS) : conv.turns;
  if (conv.turns.length > MAX_TURNS) info.truncated = true;
  let lastUser = -1;
  for (let i = turns.length - 1; i >= 0; i--) {
    if (turns[i].role === 'user') {
      lastUser = i;
      break;
    }
  }
  if (conv.system) addTurn(h, conv.system, WEIGHT_SYSTEM, info);
  for (let i = 0; i < turns.length; i++) {
    const t = turns[i];
    if (typeof t.text !== 'string' || t.text.length === 0) continue;
    const w = i === lastUser ? WEIGHT_LAST_USER : t.role === 'user' ? WEIGHT_EARLIER_USER : WEIGHT_ASSISTANT;
    addTurn(h, t.text, w, info);
  }
  h.normalize();
  return info;
}

/** Convenience: a single user message as a conversation. */
export function singleTurn(text: string): ConversationText {
  return { system: null, turns: [{ role: 'user', text }] };
}
