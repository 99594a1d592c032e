/**
 * Separates the instruction (what the user asks) from pasted code and data (what the request is about), so that the
 * contents of code alone do not make a request offensive: a C file full of `strcpy` is not an exploit request; the
 * words around it decide. Fenced blocks, indented blocks and lines shaped like code count as code.
 */
export interface Segments {
  instruction: string;
  code: string;
}

const FENCE = /^\s*(```|~~~)/;
const KEYWORD_START =
  /^\s*(#include|#define|import |from \S+ import|def |class |public |private |static |function |const |let |var |return\b|if\s*\(|for\s*\(|while\s*\(|} else|package |using |fn |pub |impl |struct |int |void |char |\/\/|\/\*|\* |<\?php|<\/?[a-zA-Z][^>]*>$)/;
const SYMBOLS = /[{}();=<>[\]]/g;

/** Does this line look like source code rather than prose? */
export function isCodeShaped(line: string): boolean {
  const t = line.trim();
  if (t.length === 0) return false;
  // A line that is mostly HTML character references (`&#87;&#114;…`) is an encoded message, not code: its trailing
  // `;` must not send it to the code side, where it would never be decoded.
  if (t.charCodeAt(0) === 38 && isEntityRun(t)) return false;
  // Indentation alone does not make code (else indenting a request by four spaces would turn it into "context"):
  // an indented line must also carry code punctuation.
  if (/^( {4,}|\t)/.test(line) && /[;{}()=<>[\]:#]/.test(t)) return true;
  if (KEYWORD_START.test(line)) return true;
  if (/[;{}]\s*$/.test(t) && !/[.?!]\s*$/.test(t)) return true;
  const symbols = t.match(SYMBOLS)?.length ?? 0;
  const words = t.split(/\s+/).length;
  // Prose has few brackets per word; code has many.
  return t.length > 8 && symbols / t.length > 0.08 && symbols >= words / 2;
}

const ENTITY = /&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g;

/** Three or more entities covering at least 80% of the line. */
function isEntityRun(t: string): boolean {
  let n = 0;
  let covered = 0;
  for (const m of t.matchAll(ENTITY)) {
    n++;
    covered += m[0].length;
  }
  return n >= 3 && covered >= 0.8 * t.replace(/\s+/g, '').length;
}

export function splitInstructionAndCode(text: string): Segments {
  if (text.indexOf('\n') === -1) return isCodeShaped(text) && text.length > 40 ? { instruction: '', code: text } : { instruction: text, code: '' };
  const lines = text.split('\n');
  const instruction: string[] = [];
  const code: string[] = [];
  let inFence = false;
  for (const line of lines) {
    if (FENCE.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence || isCodeShaped(line)) code.push(line);
    else instruction.push(line);
  }
  return { instruction: instruction.join('\n'), code: code.join('\n') };
}
