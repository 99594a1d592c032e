/**
 * OpenTelemetry tracing with the GenAI semantic conventions: one SERVER span per chat request
 * (`chat {model}`), a child span per gate decision and a CLIENT span per upstream attempt, exported over
 * OTLP/HTTP (JSON) in batches. The SDK is imported only when a `tracing:` section is configured: without one
 * nothing here is loaded and the request path allocates no span objects.
 */
import type { Span, Tracer as OtelTracer } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

export interface TracingConfig {
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  headers?: Record<string, string>;
  /** Share of new traces recorded (0–1); an incoming traceparent's sampled flag is honoured. */
  sampleRatio?: number;
  serviceName?: string;
}

/** What a finished request reports on its span. */
export interface RequestSpanFacts {
  modelRequested: string;
  modelServed: string | null;
  inputTokens: number;
  outputTokens: number;
  outcome: string;
  status: number;
  code?: string;
  requestId: string;
  labels?: Record<string, number>;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const SERVER = 1; // SpanKind.SERVER
const CLIENT = 2; // SpanKind.CLIENT
const ERROR = 2; // SpanStatusCode.ERROR

export class Tracing {
  private constructor(
    private readonly provider: BasicTracerProvider,
    private readonly tracer: OtelTracer,
    private readonly api: typeof import('@opentelemetry/api'),
  ) {}

  static async start(config: TracingConfig): Promise<Tracing> {
    const [api, sdk, otlp, resources] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    const exporter = new otlp.OTLPTraceExporter({ url: config.endpoint, headers: config.headers ?? {} });
    const provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': config.serviceName ?? 'gatehouse' }),
      sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(config.sampleRatio ?? 1) }),
      spanProcessors: [new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
    return new Tracing(provider, provider.getTracer('gatehouse'), api);
  }

  /** The span of one chat request, a child of the caller's `traceparent` when it sent a valid one. */
  startRequest(traceparent: string | string[] | undefined, operation: 'chat'): RequestSpan {
    const api = this.api;
    let parent = api.ROOT_CONTEXT;
    const m = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
    if (m && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!)) {
      parent = api.trace.setSpanContext(parent, { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 1, isRemote: true });
    }
    const span = this.tracer.startSpan(operation, { kind: SERVER, attributes: { 'gen_ai.operation.name': operation } }, parent);
    return new RequestSpan(this, span);
  }

  /** @internal a child of `parent`. */
  child(parent: Span, name: string, kind: number, attributes: Record<string, string | number | boolean>): Span {
    return this.tracer.startSpan(name, { kind, attributes }, this.api.trace.setSpan(this.api.ROOT_CONTEXT, parent));
  }

  /** Exports what is buffered (shutdown, tests). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** A chat request's span and the child spans it opens. */
export class RequestSpan {
  readonly traceId: string;
  constructor(
    private readonly tracing: Tracing,
    private readonly span: Span,
  ) {
    this.traceId = span.spanContext().traceId;
  }

  /** A gate's decision span; `end` it with the verdict's action. */
  gate(name: string, model: string): ChildSpan {
    return new ChildSpan(this.tracing.child(this.span, `gate ${name}`, 0, { 'gatehouse.gate': name, 'gen_ai.request.model': model }));
  }

  /** An upstream attempt's CLIENT span (GenAI conventions: `chat {upstream model}`). */
  attempt(model: string, upstreamModel: string, provider: string): ChildSpan {
    return new ChildSpan(
      this.tracing.child(this.span, `chat ${upstreamModel}`, CLIENT, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': upstreamModel, 'gen_ai.provider.name': provider, 'gatehouse.model': model }),
    );
  }

  /** Ends the span with the request's outcome: served model, tokens, decision, classifier top label. */
  end(f: RequestSpanFacts): void {
    const s = this.span;
    s.updateName(`chat ${f.modelRequested}`);
    s.setAttribute('gen_ai.request.model', f.modelRequested);
    if (f.modelServed) s.setAttribute('gen_ai.response.model', f.modelServed);
    s.setAttribute('gen_ai.usage.input_tokens', f.inputTokens);
    s.setAttribute('gen_ai.usage.output_tokens', f.outputTokens);
    s.setAttribute('gatehouse.request_id', f.requestId);
    s.setAttribute('gatehouse.outcome', f.outcome);
    s.setAttribute('gatehouse.decision', decisionOf(f));
    s.setAttribute('http.response.status_code', f.status);
    if (f.code) s.setAttribute('gatehouse.code', f.code);
    const top = topLabel(f.labels);
    if (top) {
      s.setAttribute('gatehouse.classifier.label', top[0]);
      s.setAttribute('gatehouse.classifier.score', top[1]);
    }
    if (f.status >= 500) s.setStatus({ code: ERROR, message: f.code ?? f.outcome });
    s.end();
  }
}

/** A gate or attempt span. */
export class ChildSpan {
  constructor(private readonly span: Span) {}

  /** The W3C traceparent naming this span, sent to the upstream so its spans join the trace. */
  traceparent(): string {
    const c = this.span.spanContext();
    return `00-${c.traceId}-${c.spanId}-${c.traceFlags & 1 ? '01' : '00'}`;
  }

  end(attributes?: Record<string, string | number | boolean>, error?: string): void {
    if (attributes) this.span.setAttributes(attributes);
    if (error) this.span.setStatus({ code: ERROR, message: error });
    this.span.end();
  }
}

function decisionOf(f: RequestSpanFacts): string {
  if (f.outcome === 'refused' || f.outcome === 'moderated') return 'refuse';
  if (f.modelServed && f.modelServed !== f.modelRequested) return 'route';
  return 'allow';
}

function topLabel(labels: Record<string, number> | undefined): [string, number] | null {
  if (!labels) return null;
  let best: [string, number] | null = null;
  for (const k in labels) if (!best || labels[k]! > best[1]) best = [k, labels[k]!];
  return best;
}
