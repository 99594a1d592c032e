/**
 * The red-team contracts: a seed (a request with its expected answer), a transform (an attack that rewrites a seed
 * into a conversation) and the conversation it produces. Transforms are plugins: one module each, default- or
 * named-exporting an object of type `Transform`.
 */

export type SeedLabel = 'harmful' | 'benign';

export interface Seed {
  /** Stable id (`<file>:<line>` unless the JSONL gives one): the report and the RNG stream are keyed on it. */
  id: string;
  text: string;
  label: SeedLabel;
  category: string;
}

export interface Message {
  role: 'user' | 'assistant';
  content: string;
}

/** What a transform produces: what the attacker sends (optional system prompt, one or several turns, the last a user turn). */
export interface AttackConversation {
  system?: string;
  messages: Message[];
}

/** Deterministic random numbers (see rng.ts); a transform must draw all its randomness from here. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
}

export interface TransformContext {
  /** The other seeds with the same label as the one being transformed (many-shot draws its demonstrations here). */
  pool: readonly Seed[];
}

export interface Transform {
  /** Unique, kebab-case; the row name in every report and the key in the bounds file. */
  name: string;
  description: string;
  /** Pure function of its arguments: the same seed and RNG state give the same conversation. */
  apply(seed: Seed, rng: Rng, ctx: TransformContext): AttackConversation;
}

/** One user turn: the shape most transforms return. */
export function userTurn(content: string, system?: string): AttackConversation {
  return system === undefined ? { messages: [{ role: 'user', content }] } : { system, messages: [{ role: 'user', content }] };
}
