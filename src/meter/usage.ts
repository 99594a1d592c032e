/**
 * Pure token and cost arithmetic.
 *
 * Token estimate when the upstream reports no usage: ceil(characters / 4), at least 1 for a non-empty text.
 * That is the common rule of thumb for English with BPE tokenizers (OpenAI documents ~4 characters per token);
 * it is off by ±30 % on code or non-Latin scripts, so counts from it are marked `usageEstimated: true`.
 */
export interface Price {
  /** USD per million input tokens. */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
}

export type PriceOf = (model: string) => Price | undefined;

export const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** Cost in USD; an unknown model costs 0 (and the caller should have refused it long before). */
export function costOf(price: Price | undefined, inputTokens: number, outputTokens: number): number {
  if (!price) return 0;
  return (inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1e6;
}

export interface MeteredUsage {
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  costUsd: number;
}

/**
 * Usage of one request: upstream-reported counts when present, else estimates from the prompt text and the
 * text actually streamed (so a client that disconnects is charged for what it received).
 */
export function meterUsage(
  model: string,
  reported: { inputTokens?: number; outputTokens?: number },
  texts: { prompt: string; output: string },
  priceOf: PriceOf,
): MeteredUsage {
  const inEst = reported.inputTokens === undefined || reported.inputTokens < 0;
  const outEst = reported.outputTokens === undefined || reported.outputTokens < 0;
  const inputTokens = inEst ? estimateTokens(texts.prompt) : reported.inputTokens!;
  const outputTokens = outEst ? estimateTokens(texts.output) : reported.outputTokens!;
  return { inputTokens, outputTokens, usageEstimated: inEst || outEst, costUsd: costOf(priceOf(model), inputTokens, outputTokens) };
}

/** UTC day of an epoch-ms time, as YYYY-MM-DD. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}
