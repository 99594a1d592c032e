/**
 * SIMULATOR — a built-in fake upstream for demos and tests, never a real model. Replies are deterministic
 * functions of the request; latency, token rate and faults (error statuses, slow first byte, streams that
 * break mid-way, connection resets) are configurable so fallbacks and error paths can be exercised.
 *
 * This module is the simulator's engine (the reply plan, pacing and faults), shared by the in-process provider
 * (provider.ts) and the HTTP simulator (server.ts).
 */
import { createHash } from 'node:crypto';
import type { CanonicalRequest, CanonicalResponse, ContentBlock, StreamEvent } from '../../core/canonical.ts';
import { UpstreamFailure } from '../types.ts';

export interface SimulatorBehaviour {
  /** Delay before a non-streaming reply or the first streamed event. */
  latencyMs: number;
  /** Streaming pace; 0 = send all tokens at once. */
  tokensPerSecond: number;
  /** Words in a reply (capped by max_tokens). */
  replyTokens: number;
  /** A fixed reply (split into words) instead of the generated one — for moderation demos and tests. */
  replyText?: string;
  /** Fail every call with this HTTP status. */
  failStatus?: number;
  /** Break the stream after this many text deltas (a mid-stream failure). */
  breakAfterChunks?: number;
  /** Close the connection without a response (a reset before the first byte). */
  resetConnection?: boolean;
  /** HTTP simulator, OpenAI wire: report no usage (as some OpenAI-compatible servers do), so the gateway must count. */
  omitUsage?: boolean;
}

export const DEFAULT_BEHAVIOUR: SimulatorBehaviour = { latencyMs: 0, tokensPerSecond: 0, replyTokens: 24 };

const WORDS = 'the gateway simulated this reply deterministically so tests and demos work without any network or api key'.split(' ');

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function promptText(req: CanonicalRequest): string {
  let s = req.system ?? '';
  for (const m of req.messages) for (const b of m.content) if (b.type === 'text') s += b.text;
  return s;
}

function lastUserText(req: CanonicalRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === 'user') for (const b of m.content) if (b.type === 'text') return b.text;
  }
  return '';
}

/** Plans the deterministic reply: the words to send, an optional tool call, and the stop reason. */
export function planReply(req: CanonicalRequest, upstreamModel: string, b: SimulatorBehaviour) {
  const seed = createHash('sha256').update(upstreamModel).update(promptText(req)).digest();
  const limit = req.maxTokens ?? b.replyTokens;
  const n = Math.min(b.replyTokens, limit);
  const words: string[] = b.replyText ? b.replyText.split(/\s+/).slice(0, n) : [`[simulated ${upstreamModel}]`];
  if (!b.replyText) for (let i = 1; i < n; i++) words.push(WORDS[(seed[i % seed.length]! + i) % WORDS.length]!);
  const last = lastUserText(req);
  const wantsTool =
    req.tools && req.tools.length > 0 && req.toolChoice?.type !== 'none' &&
    (req.toolChoice?.type === 'any' || req.toolChoice?.type === 'tool' || req.tools.some((t) => last.includes(t.name)));
  let tool: { id: string; name: string; input: Record<string, unknown> } | null = null;
  if (wantsTool) {
    const t = req.toolChoice?.type === 'tool' ? req.tools!.find((x) => x.name === (req.toolChoice as { name: string }).name) ?? req.tools![0]! : req.tools!.find((x) => last.includes(x.name)) ?? req.tools![0]!;
    tool = { id: `toolu_sim_${seed.toString('hex', 0, 8)}`, name: t.name, input: sampleArguments(t.parameters) };
  }
  const stopReason = tool ? ('tool_use' as const) : n < b.replyTokens ? ('max_tokens' as const) : ('end_turn' as const);
  return { id: seed.toString('hex', 0, 12), words, tool, stopReason, inputTokens: estimateTokens(promptText(req)) };
}

function sampleArguments(schema: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (schema as { properties?: Record<string, { type?: string }> })?.properties ?? {};
  for (const [k, v] of Object.entries(props)) {
    out[k] = v.type === 'number' || v.type === 'integer' ? 1 : v.type === 'boolean' ? true : 'simulated';
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return signal.aborted ? Promise.reject(new UpstreamFailure('aborted', 'cancelled')) : Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new UpstreamFailure('aborted', 'cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs the behaviour's faults and pacing, emitting canonical events. Shared by the in-process provider and the HTTP server. */
export async function simulateStream(req: CanonicalRequest, upstreamModel: string, b: SimulatorBehaviour, signal: AbortSignal, emit: (ev: StreamEvent) => void): Promise<void> {
  const plan = planReply(req, upstreamModel, b);
  await sleep(b.latencyMs, signal);
  if (b.resetConnection) throw new UpstreamFailure('reset', 'The upstream connection was closed unexpectedly.');
  if (b.failStatus) throw new UpstreamFailure('status', `The upstream answered with status ${b.failStatus}.`, b.failStatus);
  emit({ type: 'start', id: plan.id, model: upstreamModel, inputTokens: plan.inputTokens });
  const gap = b.tokensPerSecond > 0 ? 1000 / b.tokensPerSecond : 0;
  for (let i = 0; i < plan.words.length; i++) {
    if (b.breakAfterChunks !== undefined && i >= b.breakAfterChunks) {
      throw new UpstreamFailure('reset', 'The upstream stream broke mid-way.');
    }
    if (i > 0) await sleep(gap, signal);
    emit({ type: 'text_delta', index: 0, text: i === 0 ? plan.words[i]! : ` ${plan.words[i]}` });
  }
  emit({ type: 'block_stop', index: 0 });
  if (plan.tool) {
    emit({ type: 'tool_start', index: 1, id: plan.tool.id, name: plan.tool.name });
    emit({ type: 'tool_delta', index: 1, json: JSON.stringify(plan.tool.input) });
    emit({ type: 'block_stop', index: 1 });
  }
  emit({ type: 'stop', stopReason: plan.stopReason, usage: { inputTokens: plan.inputTokens, outputTokens: plan.words.length + (plan.tool ? 8 : 0) } });
}

export async function simulateComplete(req: CanonicalRequest, upstreamModel: string, b: SimulatorBehaviour, signal: AbortSignal): Promise<CanonicalResponse> {
  const plan = planReply(req, upstreamModel, b);
  await sleep(b.latencyMs, signal);
  if (b.resetConnection) throw new UpstreamFailure('reset', 'The upstream connection was closed unexpectedly.');
  if (b.failStatus) throw new UpstreamFailure('status', `The upstream answered with status ${b.failStatus}.`, b.failStatus);
  const content: ContentBlock[] = [{ type: 'text', text: plan.words.join(' ') }];
  if (plan.tool) content.push({ type: 'tool_use', id: plan.tool.id, name: plan.tool.name, input: plan.tool.input });
  return {
    id: plan.id,
    model: upstreamModel,
    content,
    stopReason: plan.stopReason,
    usage: { inputTokens: plan.inputTokens, outputTokens: plan.words.length + (plan.tool ? 8 : 0) },
  };
}
