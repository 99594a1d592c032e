/** Pure cost arithmetic. Token counts without upstream usage come from `tokenizer.ts`. */
export interface Price {
  /** USD per million input tokens. */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
}

export type PriceOf = (model: string) => Price | undefined;

/** Cost in USD; an unknown model costs 0 (and the caller should have refused it long before). */
export function costOf(price: Price | undefined, inputTokens: number, outputTokens: number): number {
  if (!price) return 0;
  return (inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1e6;
}

/** UTC day of an epoch-ms time, as YYYY-MM-DD. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}
