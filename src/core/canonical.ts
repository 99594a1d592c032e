/**
 * The canonical request/response model between the two wire protocols. Each ingress protocol is one
 * parser into these types and one serializer out of them; each provider is one adapter.
 */

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; mediaType: string; data?: string; url?: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolUseId: string; content: string; isError?: boolean };

export interface CanonicalMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ToolDef {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: unknown;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'any' } | { type: 'tool'; name: string };

export interface CanonicalRequest {
  model: string;
  system: string | null;
  messages: CanonicalMessage[];
  maxTokens: number | null;
  temperature?: number;
  topP?: number;
  stop?: string[];
  stream: boolean;
  /** OpenAI `stream_options.include_usage`; Anthropic always reports usage. */
  includeUsage: boolean;
  tools?: ToolDef[];
  toolChoice?: ToolChoice;
  /** Caller's end-user id (OpenAI `user`, Anthropic `metadata.user_id`), passed through. */
  user?: string;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'content_filter';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface CanonicalResponse {
  id: string;
  model: string;
  content: ContentBlock[];
  stopReason: StopReason;
  usage: Usage;
}

/** Streaming: the provider-neutral event sequence every adapter produces and every serializer consumes. */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; inputTokens?: number }
  | { type: 'text_delta'; index: number; text: string }
  | { type: 'tool_start'; index: number; id: string; name: string }
  | { type: 'tool_delta'; index: number; json: string }
  | { type: 'block_stop'; index: number }
  | { type: 'stop'; stopReason: StopReason; usage: Partial<Usage> };

/** Plain-text view of a conversation, for classifiers: the system prompt and each turn's text. */
export interface ConversationText {
  system: string | null;
  turns: { role: 'user' | 'assistant'; text: string }[];
}

export function conversationText(req: CanonicalRequest): ConversationText {
  const turns: ConversationText['turns'] = [];
  for (const m of req.messages) {
    let text = '';
    for (const b of m.content) {
      if (b.type === 'text') text += (text ? '\n' : '') + b.text;
      else if (b.type === 'tool_result') text += (text ? '\n' : '') + b.content;
      else if (b.type === 'tool_use') text += (text ? '\n' : '') + JSON.stringify(b.input);
    }
    turns.push({ role: m.role, text });
  }
  return { system: req.system, turns };
}

/** The text a request's keyed `promptHash` covers: the system prompt and the user turns, newline-joined. */
export function promptText(conv: ConversationText): string {
  let text = conv.system ?? '';
  for (const t of conv.turns) if (t.role === 'user') text += '\n' + t.text;
  return text;
}
