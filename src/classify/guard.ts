/**
 * External guard model behind an OpenAI-compatible chat endpoint (vLLM, TGI, llama.cpp server, …) as a cascade stage.
 * Formats:
 *   llama-guard-3 / llama-guard-4: the conversation is sent as chat messages (the server's chat template adds the
 *     policy); the reply is `safe` or `unsafe\nS1,S9`. Categories S1–S14 (Llama Guard 3 taxonomy; 4 uses the same codes).
 *   qwen3guard: the reply is `Safety: Safe|Unsafe|Controversial\nCategories: …`. Controversial scores 0.5.
 * Scores: 1 for labels an unsafe category maps to, 0 for the stage's other labels; a reply that cannot be parsed is an
 * error (so the label's fail mode applies), never "safe".
 */
import type { ConversationText } from '../core/canonical.ts';
import type { Stage } from './cascade.ts';
import { LLAMA_GUARD_CATEGORIES, type Label } from './labels.ts';

export type GuardFormat = 'llama-guard-3' | 'llama-guard-4' | 'qwen3guard';

export { LLAMA_GUARD_CATEGORIES };
export const QWEN3GUARD_CATEGORIES: Record<string, Label> = {
  violent: 'violent-crimes',
  'non-violent illegal acts': 'non-violent-crimes',
  'sexual content or sexual acts': 'sexual-content',
  pii: 'privacy',
  'suicide & self-harm': 'self-harm',
  'unethical acts': 'non-violent-crimes',
  'politically sensitive topics': 'elections',
  'copyright violation': 'non-violent-crimes',
  jailbreak: 'jailbreak',
};

export interface GuardOptions {
  name?: string;
  /** Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  model: string;
  format: GuardFormat;
  apiKey?: string;
  /** Labels the stage reports (0 when not flagged). */
  labels: readonly Label[];
  /** Overrides/extends the category → label map of the format. */
  categoryMap?: Record<string, Label>;
  fetchImpl?: typeof fetch;
}

export interface GuardReading {
  unsafe: number; // 0, 0.5 (controversial) or 1
  categories: string[];
}

export function parseGuardReply(format: GuardFormat, text: string): GuardReading {
  const t = text.trim();
  if (format === 'qwen3guard') {
    const safety = /Safety:\s*(Safe|Unsafe|Controversial)/i.exec(t);
    if (!safety) throw new Error(`unparseable qwen3guard reply: ${JSON.stringify(t.slice(0, 80))}`);
    const cats = /Categories:\s*([^\n]*)/i.exec(t)?.[1] ?? '';
    const categories = cats.split(/,/).map((c) => c.trim()).filter((c) => c && c.toLowerCase() !== 'none');
    const s = safety[1].toLowerCase();
    return { unsafe: s === 'unsafe' ? 1 : s === 'controversial' ? 0.5 : 0, categories };
  }
  const [first, ...rest] = t.split('\n').map((l) => l.trim()).filter(Boolean);
  if (first?.toLowerCase() === 'safe') return { unsafe: 0, categories: [] };
  if (first?.toLowerCase() === 'unsafe') {
    const categories = (rest[0] ?? '').split(/[,\s]+/).filter((c) => /^S\d{1,2}$/i.test(c)).map((c) => c.toUpperCase());
    return { unsafe: 1, categories };
  }
  throw new Error(`unparseable ${format} reply: ${JSON.stringify(t.slice(0, 80))}`);
}

function toMessages(conv: ConversationText): { role: string; content: string }[] {
  // Guard chat templates accept user/assistant turns only; the system prompt is prepended to the first user turn.
  const msgs = conv.turns.filter((t) => t.text.length > 0).map((t) => ({ role: t.role, content: t.text }));
  if (conv.system && msgs.length > 0 && msgs[0].role === 'user') msgs[0] = { role: 'user', content: `${conv.system}\n\n${msgs[0].content}` };
  if (msgs.length === 0) msgs.push({ role: 'user', content: conv.system ?? '' });
  return msgs;
}

export function createGuardStage(opts: GuardOptions): Stage {
  const map = { ...(opts.format === 'qwen3guard' ? QWEN3GUARD_CATEGORIES : LLAMA_GUARD_CATEGORIES), ...opts.categoryMap };
  const url = opts.baseUrl.replace(/\/$/, '') + '/chat/completions';
  const doFetch = opts.fetchImpl ?? fetch;
  return {
    name: opts.name ?? `guard:${opts.format}:${opts.model}`,
    async score(conv, signal) {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
        body: JSON.stringify({ model: opts.model, messages: toMessages(conv), temperature: 0, max_tokens: 32, stream: false }),
        signal,
      });
      if (!res.ok) throw new Error(`guard endpoint answered HTTP ${res.status}`);
      const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
      const content = body.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('guard endpoint reply has no choices[0].message.content');
      const reading = parseGuardReply(opts.format, content);
      const out: Partial<Record<Label, number>> = {};
      for (const l of opts.labels) out[l] = 0;
      for (const c of reading.categories) {
        const label = map[c] ?? map[c.toLowerCase()];
        if (label && opts.labels.includes(label)) out[label] = reading.unsafe;
      }
      // Unsafe without a category we map: every covered label takes the reading (conservative).
      if (reading.unsafe > 0 && !reading.categories.some((c) => map[c] ?? map[c.toLowerCase()])) for (const l of opts.labels) out[l] = reading.unsafe;
      return out;
    },
  };
}
