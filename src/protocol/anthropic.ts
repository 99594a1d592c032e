/**
 * Anthropic Messages wire format, both directions: ingress (parse client requests, write responses and the
 * full SSE event sequence) and upstream (build requests for Anthropic, read its responses and streams).
 */
import { z } from 'zod';
import type {
  CanonicalMessage,
  CanonicalRequest,
  CanonicalResponse,
  ContentBlock,
  StopReason,
  StreamEvent,
  ToolChoice,
} from '../core/canonical.ts';
import { GatewayError, invalid } from './errors.ts';
import { DEFAULT_MAX_JSON_DEPTH, excessiveDepthPath } from './json-depth.ts';
import { zodToError } from './validate.ts';

const textBlock = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const imageBlock = z.object({
  type: z.literal('image'),
  source: z.union([
    z.object({ type: z.literal('base64'), media_type: z.string(), data: z.string() }),
    z.object({ type: z.literal('url'), url: z.string() }),
  ]),
});
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() });
const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
// Thinking blocks from earlier assistant turns are accepted and dropped: they only make sense to the model that wrote them.
const thinkingBlock = z.object({ type: z.enum(['thinking', 'redacted_thinking']) }).passthrough();
const block = z.discriminatedUnion('type', [textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock]);
const message = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});
const requestSchema = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().optional(),
  stream: z.boolean().optional(),
  tools: z
    .array(z.object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()) }).passthrough())
    .optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
      z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
      z.object({ type: z.literal('none') }),
      z.object({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
    ])
    .optional(),
  metadata: z.object({ user_id: z.string().nullable().optional() }).optional(),
});

type Block = z.infer<typeof block>;

function toCanonicalBlock(b: Block): ContentBlock | null {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: (b as { text: string }).text };
    case 'image': {
      const src = (b as z.infer<typeof imageBlock>).source;
      return src.type === 'base64' ? { type: 'image', mediaType: src.media_type, data: src.data } : { type: 'image', mediaType: 'image/*', url: src.url };
    }
    case 'tool_use': {
      const t = b as z.infer<typeof toolUseBlock>;
      return { type: 'tool_use', id: t.id, name: t.name, input: t.input };
    }
    case 'tool_result': {
      const t = b as z.infer<typeof toolResultBlock>;
      const content =
        typeof t.content === 'string' ? t.content : (t.content ?? []).map((c) => (c.type === 'text' ? (c as { text: string }).text : '')).join('');
      return { type: 'tool_result', toolUseId: t.tool_use_id, content, ...(t.is_error !== undefined ? { isError: t.is_error } : {}) };
    }
    default:
      return null;
  }
}

export function parseRequest(body: unknown): CanonicalRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('The request body must be a JSON object.');
  }
  const result = requestSchema.safeParse(body);
  if (!result.success) throw zodToError(result.error, body);
  const r = result.data;
  const messages: CanonicalMessage[] = r.messages.map((m) => ({
    role: m.role,
    content:
      typeof m.content === 'string'
        ? [{ type: 'text', text: m.content }]
        : (m.content.map(toCanonicalBlock).filter((b) => b !== null) as ContentBlock[]),
  }));
  const req: CanonicalRequest = {
    model: r.model,
    system: r.system === undefined ? null : typeof r.system === 'string' ? r.system : r.system.map((b) => b.text).join('\n\n'),
    messages,
    maxTokens: r.max_tokens,
    stream: r.stream === true,
    includeUsage: true,
  };
  if (r.temperature !== undefined) req.temperature = r.temperature;
  if (r.top_p !== undefined) req.topP = r.top_p;
  if (r.stop_sequences) req.stop = r.stop_sequences;
  if (r.tools) {
    req.tools = r.tools.map((t) => ({ name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema }));
  }
  if (r.tool_choice) req.toolChoice = r.tool_choice.type === 'tool' ? { type: 'tool', name: r.tool_choice.name } : ({ type: r.tool_choice.type } as ToolChoice);
  if (r.metadata?.user_id) req.user = r.metadata.user_id;
  return req;
}

function wireBlock(b: ContentBlock): unknown {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text };
    case 'tool_use':
      return { type: 'tool_use', id: b.id, name: b.name, input: typeof b.input === 'string' ? safeJson(b.input) : b.input ?? {} };
    case 'tool_result':
      return { type: 'tool_result', tool_use_id: b.toolUseId, content: b.content, ...(b.isError !== undefined ? { is_error: b.isError } : {}) };
    case 'image':
      return b.url
        ? { type: 'image', source: { type: 'url', url: b.url } }
        : { type: 'image', source: { type: 'base64', media_type: b.mediaType, data: b.data ?? '' } };
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return { _raw: s };
  }
}

export function responseBody(res: CanonicalResponse, publicModel: string): string {
  return JSON.stringify({
    id: res.id.startsWith('msg_') ? res.id : `msg_${res.id}`,
    type: 'message',
    role: 'assistant',
    model: publicModel,
    content: res.content.map(wireBlock),
    stop_reason: res.stopReason === 'content_filter' ? 'refusal' : res.stopReason,
    stop_sequence: null,
    usage: { input_tokens: res.usage.inputTokens, output_tokens: res.usage.outputTokens },
  });
}

const ERROR_TYPE: Record<string, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  payload_too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  upstream: 'api_error',
  overloaded: 'overloaded_error',
  timeout: 'api_error',
  internal: 'api_error',
};

export function errorBody(err: GatewayError): string {
  const error: Record<string, unknown> = { type: ERROR_TYPE[err.kind] ?? 'api_error', message: err.message, code: err.code };
  if (err.param) error.param = err.param;
  if (err.detail) error.gatehouse = err.detail;
  return JSON.stringify({ type: 'error', error });
}

function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/** Writes canonical stream events as Anthropic's event sequence, opening text blocks implicitly. */
export class StreamSerializer {
  private openBlocks = new Set<number>();
  private inputTokens = 0;
  constructor(
    private readonly id: string,
    private readonly model: string,
  ) {}

  write(ev: StreamEvent): string {
    switch (ev.type) {
      case 'start':
        this.inputTokens = ev.inputTokens ?? 0;
        return (
          frame(
            'message_start',
            JSON.stringify({
              type: 'message_start',
              message: {
                id: this.id,
                type: 'message',
                role: 'assistant',
                model: this.model,
                content: [],
                stop_reason: null,
                stop_sequence: null,
                usage: { input_tokens: this.inputTokens, output_tokens: 0 },
              },
            }),
          ) + frame('ping', '{"type":"ping"}')
        );
      case 'text_delta': {
        let out = '';
        if (!this.openBlocks.has(ev.index)) {
          this.openBlocks.add(ev.index);
          out = frame('content_block_start', `{"type":"content_block_start","index":${ev.index},"content_block":{"type":"text","text":""}}`);
        }
        return out + frame('content_block_delta', `{"type":"content_block_delta","index":${ev.index},"delta":{"type":"text_delta","text":${JSON.stringify(ev.text)}}}`);
      }
      case 'tool_start':
        this.openBlocks.add(ev.index);
        return frame(
          'content_block_start',
          JSON.stringify({ type: 'content_block_start', index: ev.index, content_block: { type: 'tool_use', id: ev.id, name: ev.name, input: {} } }),
        );
      case 'tool_delta':
        return frame('content_block_delta', `{"type":"content_block_delta","index":${ev.index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(ev.json)}}}`);
      case 'block_stop':
        if (!this.openBlocks.delete(ev.index)) return '';
        return frame('content_block_stop', `{"type":"content_block_stop","index":${ev.index}}`);
      case 'stop': {
        let out = '';
        for (const i of this.openBlocks) out += frame('content_block_stop', `{"type":"content_block_stop","index":${i}}`);
        this.openBlocks.clear();
        const usage: Record<string, number> = { output_tokens: ev.usage.outputTokens ?? 0 };
        if (ev.usage.inputTokens !== undefined && ev.usage.inputTokens !== this.inputTokens) usage.input_tokens = ev.usage.inputTokens;
        out += frame(
          'message_delta',
          JSON.stringify({ type: 'message_delta', delta: { stop_reason: ev.stopReason === 'content_filter' ? 'refusal' : ev.stopReason, stop_sequence: null }, usage }),
        );
        return out + frame('message_stop', '{"type":"message_stop"}');
      }
    }
  }

  error(err: GatewayError): string {
    return frame('error', errorBody(err));
  }
}

// ---- Upstream direction: talking to Anthropic ----

export function upstreamRequestBody(req: CanonicalRequest, upstreamModel: string, defaultMaxTokens: number): string {
  const body: Record<string, unknown> = {
    model: upstreamModel,
    max_tokens: req.maxTokens ?? defaultMaxTokens,
    messages: req.messages.map((m) => ({ role: m.role, content: m.content.map(wireBlock) })),
  };
  if (req.system !== null) body.system = req.system;
  if (req.temperature !== undefined) body.temperature = Math.min(1, req.temperature);
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop) body.stop_sequences = req.stop;
  if (req.tools) body.tools = req.tools.map((t) => ({ name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), input_schema: t.parameters }));
  if (req.toolChoice) body.tool_choice = req.toolChoice.type === 'tool' ? { type: 'tool', name: req.toolChoice.name } : { type: req.toolChoice.type };
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  if (req.stream) body.stream = true;
  return JSON.stringify(body);
}

export function stopReasonFromAnthropic(reason: string | null | undefined): StopReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'tool_use':
      return 'tool_use';
    case 'refusal':
      return 'content_filter';
    default:
      return 'end_turn';
  }
}

interface AnthropicResponseShape {
  id?: string;
  model?: string;
  content?: { type: string; text?: string; id?: string; name?: string; input?: unknown }[];
  stop_reason?: string;
  usage?: { input_tokens?: number; output_tokens?: number };
}

export function parseUpstreamResponse(json: unknown): CanonicalResponse {
  const r = json as AnthropicResponseShape;
  if (!r || !Array.isArray(r.content)) {
    throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_bad_response', message: 'The upstream returned a response without content.' });
  }
  // Tool inputs are serialised again for the caller: one nested too deeply would overflow the stack there.
  if (excessiveDepthPath(r.content, DEFAULT_MAX_JSON_DEPTH) !== null) {
    throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_bad_response', message: 'The upstream returned content nested too deeply.' });
  }
  const content: ContentBlock[] = [];
  for (const b of r.content) {
    if (b.type === 'text') content.push({ type: 'text', text: b.text ?? '' });
    else if (b.type === 'tool_use') content.push({ type: 'tool_use', id: b.id ?? '', name: b.name ?? '', input: b.input ?? {} });
  }
  return {
    id: r.id ?? 'upstream',
    model: r.model ?? '',
    content,
    stopReason: stopReasonFromAnthropic(r.stop_reason),
    usage: { inputTokens: r.usage?.input_tokens ?? -1, outputTokens: r.usage?.output_tokens ?? -1 },
  };
}

/** Turns Anthropic SSE events into canonical events. */
export class UpstreamStreamReader {
  private started = false;
  private done = false;
  private stopReason: StopReason = 'end_turn';
  private usage: { inputTokens?: number; outputTokens?: number } = {};
  constructor(private readonly emit: (ev: StreamEvent) => void) {}

  get finished(): boolean {
    return this.done;
  }

  event(name: string, data: string): void {
    if (this.done || name === 'ping') return;
    const ev = JSON.parse(data) as Record<string, any>;
    switch (ev.type) {
      case 'message_start': {
        this.started = true;
        const u = ev.message?.usage ?? {};
        if (typeof u.input_tokens === 'number') this.usage.inputTokens = u.input_tokens;
        if (typeof u.output_tokens === 'number') this.usage.outputTokens = u.output_tokens;
        this.emit({ type: 'start', id: ev.message?.id ?? 'upstream', model: ev.message?.model ?? '', ...(this.usage.inputTokens !== undefined ? { inputTokens: this.usage.inputTokens } : {}) });
        break;
      }
      case 'content_block_start': {
        const cb = ev.content_block ?? {};
        if (cb.type === 'tool_use') this.emit({ type: 'tool_start', index: ev.index, id: cb.id, name: cb.name });
        else if (cb.type === 'text' && cb.text) this.emit({ type: 'text_delta', index: ev.index, text: cb.text });
        break;
      }
      case 'content_block_delta': {
        const d = ev.delta ?? {};
        if (d.type === 'text_delta') this.emit({ type: 'text_delta', index: ev.index, text: d.text });
        else if (d.type === 'input_json_delta') this.emit({ type: 'tool_delta', index: ev.index, json: d.partial_json });
        break;
      }
      case 'content_block_stop':
        this.emit({ type: 'block_stop', index: ev.index });
        break;
      case 'message_delta':
        if (ev.delta?.stop_reason) this.stopReason = stopReasonFromAnthropic(ev.delta.stop_reason);
        if (typeof ev.usage?.output_tokens === 'number') this.usage.outputTokens = ev.usage.output_tokens;
        if (typeof ev.usage?.input_tokens === 'number') this.usage.inputTokens = ev.usage.input_tokens;
        break;
      case 'message_stop':
        this.finish();
        break;
      case 'error':
        throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_stream_error', message: 'The upstream reported an error mid-stream.' });
    }
  }

  finish(): void {
    if (this.done) return;
    if (!this.started) throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_empty_stream', message: 'The upstream stream ended before any data.' });
    this.done = true;
    this.emit({ type: 'stop', stopReason: this.stopReason, usage: this.usage });
  }
}
