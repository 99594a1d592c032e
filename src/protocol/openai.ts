/**
 * OpenAI Chat Completions wire format, both directions: as an ingress (parse client requests, write responses
 * and SSE chunks) and as an upstream (build requests for OpenAI-compatible servers, read their responses).
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
import { DEFAULT_MAX_JSON_DEPTH, depthMessage, excessiveDepthPath, joinPath } from './json-depth.ts';
import { zodToError } from './validate.ts';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.string().optional() }),
});
const contentParts = z.array(z.union([textPart, imagePart]));
const toolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.union([z.string(), z.array(textPart)]), name: z.string().optional() }),
  z.object({ role: z.literal('developer'), content: z.union([z.string(), z.array(textPart)]), name: z.string().optional() }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), contentParts]), name: z.string().optional() }),
  z.object({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
    refusal: z.string().nullable().optional(),
  }),
  z.object({ role: z.literal('tool'), content: z.union([z.string(), z.array(textPart)]), tool_call_id: z.string() }),
]);
const tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
const requestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z.array(tool).optional(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  user: z.string().optional(),
});

type OpenAIMessage = z.infer<typeof message>;

function partsText(content: string | { type: 'text'; text: string }[]): string {
  if (typeof content === 'string') return content;
  let out = '';
  for (const p of content) out += p.text;
  return out;
}

function parseArguments(args: string, path: string, maxJsonDepth: number): unknown {
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    return args; // keep what the caller sent; translation must not lose it
  }
  // Arguments given as JSON text are held to the same nesting bound as the body: they become an object here.
  const deep = excessiveDepthPath(v, maxJsonDepth);
  if (deep !== null) throw invalid(depthMessage(joinPath(path, deep), maxJsonDepth), path, 'json_too_deep');
  return v;
}

/** Parses and validates a client request body (already JSON-decoded). Throws GatewayError(400). */
export function parseRequest(body: unknown, maxJsonDepth = DEFAULT_MAX_JSON_DEPTH): CanonicalRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('The request body must be a JSON object.');
  }
  const result = requestSchema.safeParse(body);
  if (!result.success) throw zodToError(result.error, body);
  const r = result.data;
  if (r.n != null && r.n !== 1) throw invalid("Only 'n': 1 is supported by this gateway.", 'n', 'unsupported_value');

  const systemParts: string[] = [];
  const messages: CanonicalMessage[] = [];
  const push = (role: 'user' | 'assistant', block: ContentBlock, mergeToolResults: boolean): void => {
    const last = messages[messages.length - 1];
    if (mergeToolResults && last && last.role === role && last.content.every((b: ContentBlock) => b.type === 'tool_result')) {
      (last.content as ContentBlock[]).push(block);
    } else {
      messages.push({ role, content: [block] });
    }
  };
  r.messages.forEach((m: OpenAIMessage, mi) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        systemParts.push(partsText(m.content));
        break;
      case 'user': {
        const content: ContentBlock[] =
          typeof m.content === 'string'
            ? [{ type: 'text', text: m.content }]
            : m.content.map((p) =>
                p.type === 'text'
                  ? { type: 'text' as const, text: p.text }
                  : imageFromUrl(p.image_url.url),
              );
        messages.push({ role: 'user', content });
        break;
      }
      case 'assistant': {
        const content: ContentBlock[] = [];
        if (m.content != null) {
          const text = partsText(m.content);
          if (text) content.push({ type: 'text', text });
        }
        m.tool_calls?.forEach((tc, ti) => {
          content.push({ type: 'tool_use', id: tc.id, name: tc.function.name, input: parseArguments(tc.function.arguments, `messages[${mi}].tool_calls[${ti}].function.arguments`, maxJsonDepth) });
        });
        messages.push({ role: 'assistant', content });
        break;
      }
      case 'tool':
        push('user', { type: 'tool_result', toolUseId: m.tool_call_id, content: partsText(m.content) }, true);
        break;
    }
  });

  const req: CanonicalRequest = {
    model: r.model,
    system: systemParts.length ? systemParts.join('\n\n') : null,
    messages,
    maxTokens: r.max_completion_tokens ?? r.max_tokens ?? null,
    stream: r.stream === true,
    includeUsage: r.stream_options?.include_usage === true,
  };
  if (r.temperature != null) req.temperature = r.temperature;
  if (r.top_p != null) req.topP = r.top_p;
  if (r.stop != null) req.stop = typeof r.stop === 'string' ? [r.stop] : r.stop;
  if (r.tools) {
    req.tools = r.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description !== undefined ? { description: t.function.description } : {}),
      parameters: t.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  if (r.tool_choice !== undefined) req.toolChoice = toolChoiceFromOpenAI(r.tool_choice);
  if (r.user !== undefined) req.user = r.user;
  return req;
}

function imageFromUrl(url: string): ContentBlock {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { type: 'image', mediaType: m[1]!, data: m[2]! };
  return { type: 'image', mediaType: 'image/*', url };
}

function toolChoiceFromOpenAI(c: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } }): ToolChoice {
  if (c === 'auto') return { type: 'auto' };
  if (c === 'none') return { type: 'none' };
  if (c === 'required') return { type: 'any' };
  return { type: 'tool', name: c.function.name };
}

const FINISH_REASON: Record<StopReason, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  content_filter: 'content_filter',
};

export function stopReasonFromOpenAI(reason: string | null | undefined): StopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'end_turn';
  }
}

function toolArguments(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input ?? {});
}

/** Response body for a non-streaming request, with `model` set to the public model name. */
export function responseBody(res: CanonicalResponse, publicModel: string, created: number): string {
  let text: string | null = null;
  const toolCalls: unknown[] = [];
  for (const b of res.content) {
    if (b.type === 'text') text = (text ?? '') + b.text;
    else if (b.type === 'tool_use') {
      toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: toolArguments(b.input) } });
    }
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text, refusal: null };
  if (toolCalls.length) message.tool_calls = toolCalls;
  return JSON.stringify({
    id: res.id.startsWith('chatcmpl-') ? res.id : `chatcmpl-${res.id}`,
    object: 'chat.completion',
    created,
    model: publicModel,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_REASON[res.stopReason] }],
    usage: {
      prompt_tokens: res.usage.inputTokens,
      completion_tokens: res.usage.outputTokens,
      total_tokens: res.usage.inputTokens + res.usage.outputTokens,
    },
  });
}

export function errorBody(err: GatewayError): string {
  const type =
    err.kind === 'invalid_request' || err.kind === 'not_found' || err.kind === 'payload_too_large'
      ? 'invalid_request_error'
      : err.kind === 'authentication'
        ? 'authentication_error'
        : err.kind === 'permission'
          ? 'permission_error'
          : err.kind === 'rate_limit'
            ? 'rate_limit_error'
            : err.kind === 'internal'
              ? 'server_error'
              : 'api_error';
  const error: Record<string, unknown> = { message: err.message, type, param: err.param, code: err.code };
  if (err.detail) error.gatehouse = err.detail;
  return JSON.stringify({ error });
}

/**
 * Writes canonical stream events as OpenAI `chat.completion.chunk` SSE frames. One instance per response.
 * Tool-call indexes are OpenAI's own (0..n over tool calls), mapped from canonical block indexes.
 */
export class StreamSerializer {
  private readonly prefix: string;
  private toolIndexByBlock = new Map<number, number>();
  private nextToolIndex = 0;
  constructor(
    private readonly id: string,
    model: string,
    created: number,
    private readonly includeUsage: boolean,
  ) {
    this.prefix = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":null,"choices":`;
  }

  /** Returns the SSE text for one event ('' when the event has no OpenAI representation). */
  write(ev: StreamEvent): string {
    switch (ev.type) {
      case 'start':
        return `${this.prefix}[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}\n\n`;
      case 'text_delta':
        return `${this.prefix}[{"index":0,"delta":{"content":${JSON.stringify(ev.text)}},"logprobs":null,"finish_reason":null}]}\n\n`;
      case 'tool_start': {
        const ti = this.nextToolIndex++;
        this.toolIndexByBlock.set(ev.index, ti);
        return `${this.prefix}[{"index":0,"delta":{"tool_calls":[{"index":${ti},"id":${JSON.stringify(ev.id)},"type":"function","function":{"name":${JSON.stringify(ev.name)},"arguments":""}}]},"logprobs":null,"finish_reason":null}]}\n\n`;
      }
      case 'tool_delta': {
        const ti = this.toolIndexByBlock.get(ev.index) ?? 0;
        return `${this.prefix}[{"index":0,"delta":{"tool_calls":[{"index":${ti},"function":{"arguments":${JSON.stringify(ev.json)}}}]},"logprobs":null,"finish_reason":null}]}\n\n`;
      }
      case 'block_stop':
        return '';
      case 'stop': {
        let out = `${this.prefix}[{"index":0,"delta":{},"logprobs":null,"finish_reason":"${FINISH_REASON[ev.stopReason]}"}]}\n\n`;
        if (this.includeUsage) {
          const i = ev.usage.inputTokens ?? 0;
          const o = ev.usage.outputTokens ?? 0;
          out += `${this.prefix}[],"usage":{"prompt_tokens":${i},"completion_tokens":${o},"total_tokens":${i + o}}}\n\n`;
        }
        return `${out}data: [DONE]\n\n`;
      }
    }
  }

  /** Terminal frame for a stream that cannot complete (upstream broke, or moderation ended it). */
  error(err: GatewayError): string {
    return `data: ${errorBody(err)}\n\ndata: [DONE]\n\n`;
  }
}

// ---- Upstream direction: talking to OpenAI-compatible servers ----

export function upstreamRequestBody(req: CanonicalRequest, upstreamModel: string): string {
  const messages: unknown[] = [];
  if (req.system !== null) messages.push({ role: 'system', content: req.system });
  for (const m of req.messages) {
    if (m.role === 'assistant') {
      let text = '';
      const toolCalls: unknown[] = [];
      for (const b of m.content) {
        if (b.type === 'text') text += b.text;
        else if (b.type === 'tool_use') {
          toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: toolArguments(b.input) } });
        }
      }
      const out: Record<string, unknown> = { role: 'assistant', content: text || null };
      if (toolCalls.length) out.tool_calls = toolCalls;
      messages.push(out);
      continue;
    }
    const parts: unknown[] = [];
    for (const b of m.content) {
      if (b.type === 'tool_result') {
        messages.push({ role: 'tool', tool_call_id: b.toolUseId, content: b.content });
      } else if (b.type === 'text') {
        parts.push({ type: 'text', text: b.text });
      } else if (b.type === 'image') {
        parts.push({ type: 'image_url', image_url: { url: b.url ?? `data:${b.mediaType};base64,${b.data ?? ''}` } });
      }
    }
    if (parts.length === 1 && (parts[0] as { type: string }).type === 'text') {
      messages.push({ role: 'user', content: (parts[0] as { text: string }).text });
    } else if (parts.length) {
      messages.push({ role: 'user', content: parts });
    }
  }
  const body: Record<string, unknown> = { model: upstreamModel, messages };
  if (req.maxTokens !== null) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop) body.stop = req.stop;
  if (req.tools) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters },
    }));
  }
  if (req.toolChoice) {
    const c = req.toolChoice;
    body.tool_choice =
      c.type === 'auto' ? 'auto' : c.type === 'none' ? 'none' : c.type === 'any' ? 'required' : { type: 'function', function: { name: c.name } };
  }
  if (req.user !== undefined) body.user = req.user;
  if (req.stream) {
    body.stream = true;
    // Always ask for usage so metering is exact; whether the caller sees it is decided by our serializer.
    body.stream_options = { include_usage: true };
  }
  return JSON.stringify(body);
}

interface OpenAIResponseShape {
  id?: string;
  model?: string;
  choices?: { message?: { content?: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

export function parseUpstreamResponse(json: unknown): CanonicalResponse {
  const r = json as OpenAIResponseShape;
  const choice = r?.choices?.[0];
  if (!choice || typeof choice !== 'object') {
    throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_bad_response', message: 'The upstream returned a response without choices.' });
  }
  const content: ContentBlock[] = [];
  if (choice.message?.content) content.push({ type: 'text', text: choice.message.content });
  for (const tc of choice.message?.tool_calls ?? []) {
    let input: unknown;
    try {
      input = parseArguments(tc.function.arguments, 'tool_calls', DEFAULT_MAX_JSON_DEPTH);
    } catch {
      // Serialising it for the caller would overflow the stack: an upstream answer this deep is a bad response.
      throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_bad_response', message: 'The upstream returned tool arguments nested too deeply.' });
    }
    content.push({ type: 'tool_use', id: tc.id, name: tc.function.name, input });
  }
  return {
    id: r.id ?? 'upstream',
    model: r.model ?? '',
    content,
    stopReason: stopReasonFromOpenAI(choice.finish_reason),
    usage: { inputTokens: r.usage?.prompt_tokens ?? -1, outputTokens: r.usage?.completion_tokens ?? -1 },
  };
}

interface OpenAIChunk {
  id?: string;
  model?: string;
  choices?: {
    delta?: { content?: string | null; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] };
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** Turns OpenAI chunks into canonical events. Emits `stop` only at `[DONE]`/end, after the usage chunk. */
export class UpstreamStreamReader {
  private started = false;
  private textOpen = false;
  private nextBlock = 0;
  private textBlock = -1;
  private toolBlocks = new Map<number, number>();
  private stopReason: StopReason = 'end_turn';
  private usage: { inputTokens?: number; outputTokens?: number } = {};
  private done = false;

  constructor(private readonly emit: (ev: StreamEvent) => void) {}

  data(data: string): void {
    if (this.done) return;
    if (data === '[DONE]') {
      this.finish();
      return;
    }
    const chunk = JSON.parse(data) as OpenAIChunk;
    if (chunk.error) {
      throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_stream_error', message: 'The upstream reported an error mid-stream.' });
    }
    if (!this.started) {
      this.started = true;
      this.emit({ type: 'start', id: chunk.id ?? 'upstream', model: chunk.model ?? '' });
    }
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) {
      if (!this.textOpen) {
        this.textOpen = true;
        this.textBlock = this.nextBlock++;
      }
      this.emit({ type: 'text_delta', index: this.textBlock, text: choice.delta.content });
    }
    for (const tc of choice?.delta?.tool_calls ?? []) {
      let block = this.toolBlocks.get(tc.index);
      if (block === undefined) {
        this.closeText();
        block = this.nextBlock++;
        this.toolBlocks.set(tc.index, block);
        this.emit({ type: 'tool_start', index: block, id: tc.id ?? `call_${block}`, name: tc.function?.name ?? '' });
      }
      if (tc.function?.arguments) this.emit({ type: 'tool_delta', index: block, json: tc.function.arguments });
    }
    if (choice?.finish_reason) this.stopReason = stopReasonFromOpenAI(choice.finish_reason);
    if (chunk.usage) {
      if (chunk.usage.prompt_tokens !== undefined) this.usage.inputTokens = chunk.usage.prompt_tokens;
      if (chunk.usage.completion_tokens !== undefined) this.usage.outputTokens = chunk.usage.completion_tokens;
    }
  }

  get finished(): boolean {
    return this.done;
  }

  private closeText(): void {
    if (this.textOpen) {
      this.textOpen = false;
      this.emit({ type: 'block_stop', index: this.textBlock });
    }
  }

  finish(): void {
    if (this.done) return;
    if (!this.started) throw new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_empty_stream', message: 'The upstream stream ended before any data.' });
    this.done = true;
    this.closeText();
    for (const block of this.toolBlocks.values()) this.emit({ type: 'block_stop', index: block });
    this.emit({ type: 'stop', stopReason: this.stopReason, usage: this.usage });
  }
}
