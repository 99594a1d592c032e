/**
 * Token counts for when the upstream reports no usage (a client that disconnected mid-stream, a provider that
 * omits usage). A real BPE tokenizer (OpenAI's o200k_base by default, via gpt-tokenizer — pure JS, bundled
 * vocabularies, nothing downloaded) is within a few percent for OpenAI models and much closer than a characters
 * rule on code and non-Latin text; for other model families it is still an estimate, so counts from it stay
 * marked `usageEstimated`. `chars4` (ceil(chars / 4)) avoids the tokenizer's ~65 MB of memory.
 */
import type { CanonicalRequest } from '../core/canonical.ts';

export const TOKENIZERS = ['o200k_base', 'cl100k_base', 'chars4'] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

export interface TokenCounter {
  readonly name: TokenizerName;
  count(text: string): number;
}

import { CHARS_PER_TOKEN } from '../core/types.ts';

export { CHARS_PER_TOKEN };

export const charsCounter: TokenCounter = {
  name: 'chars4',
  count: (text) => (text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN))),
};

const loaded = new Map<TokenizerName, Promise<TokenCounter>>();

/** Loads a tokenizer once per process (the vocabularies take ~150 ms to load). */
export function loadTokenCounter(name: TokenizerName): Promise<TokenCounter> {
  if (name === 'chars4') return Promise.resolve(charsCounter);
  let p = loaded.get(name);
  if (!p) {
    const mod = name === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base');
    p = mod.then((m) => ({ name, count: (text: string) => (text.length === 0 ? 0 : m.countTokens(text)) }));
    loaded.set(name, p);
  }
  return p;
}

/**
 * A tokenizer loaded on first use rather than at start: it is needed only when an upstream reports no usage, and
 * its vocabulary costs ~50 MB of memory and ~150 ms to load. `get()` is the counter itself once loaded (no await
 * on the common path), else the promise of it; concurrent first uses share one load.
 */
export interface LazyTokenCounter {
  readonly name: TokenizerName;
  get(): TokenCounter | Promise<TokenCounter>;
}

export function lazyTokenCounter(name: TokenizerName): LazyTokenCounter {
  let counter: TokenCounter | null = name === 'chars4' ? charsCounter : null;
  let loading: Promise<TokenCounter> | null = null;
  return {
    name,
    get: () => counter ?? (loading ??= loadTokenCounter(name).then((c) => (counter = c))),
  };
}

/**
 * Chat framing per message and per reply, as OpenAI documents for its chat models (3 tokens around each
 * message, 3 to prime the reply). Other providers frame differently; the difference is a few tokens.
 */
const PER_MESSAGE = 3;
const PER_REPLY = 3;
/** An image's floor (OpenAI's low-detail cost); real costs depend on size and provider. */
const IMAGE_TOKENS = 85;

/** Input tokens of a request: system prompt, every message's text, tool calls and results, and tool schemas. */
export function countRequestTokens(counter: TokenCounter, req: CanonicalRequest): number {
  let n = PER_REPLY;
  if (req.system) n += PER_MESSAGE + counter.count(req.system);
  for (const m of req.messages) {
    n += PER_MESSAGE;
    for (const b of m.content) {
      if (b.type === 'text') n += counter.count(b.text);
      else if (b.type === 'tool_result') n += counter.count(b.content);
      else if (b.type === 'tool_use') n += counter.count(b.name) + counter.count(JSON.stringify(b.input));
      else n += IMAGE_TOKENS;
    }
  }
  if (req.tools) for (const t of req.tools) n += counter.count(JSON.stringify(t));
  return n;
}
