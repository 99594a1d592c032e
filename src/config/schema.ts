/**
 * The root configuration schema. One YAML file; every capability owns its section. Defaults make a minimal
 * file valid; unknown keys are errors so typos never silently change behaviour.
 */
import { z } from 'zod';
import { configSchema as abuseSection } from '../abuse/config.ts';
import { configSchema as auditSection } from '../audit/config.ts';
import { configSchema as classifySection } from '../classify/config.ts';
import { configSchema as consoleSection } from '../console/config.ts';
import { configSchema as directivesSection } from '../directives/config.ts';
import { configSchema as identitySection } from '../identity/config.ts';
import { configSchema as incidentsSection } from '../incidents/triggers.ts';
import { configSchema as limitsSection } from '../limits/config.ts';
import { configSchema as meterSection } from '../meter/config.ts';
import { configSchema as notificationsSection } from '../notify/config.ts';
import { configSchema as programmesSection } from '../programmes/config.ts';
import { configSchema as policySection } from '../policy/config.ts';
import { configSchema as storeSection } from '../store/config.ts';
import { DEFAULT_MAX_JSON_DEPTH } from '../protocol/json-depth.ts';
import { providerSchema, type ProviderConfig as RegisteredProviderConfig } from '../providers/registry.ts';

// Provider entries come from the provider registry: each provider type owns its config schema.
export { providerSchema };

export const modelSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'a model name (letters, digits, . _ : / -)'),
    provider: z.string(),
    upstreamModel: z.string().min(1),
    description: z.string().optional(),
    pricing: z
      .object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) })
      .strict()
      .default({ inputPerMTok: 0, outputPerMTok: 0 }),
    /** Public model names tried in order when this one fails (timeout, 5xx, reset, stream broken before the first byte). */
    fallbacks: z.array(z.string()).default([]),
    /** Per-attempt timeout: whole response when not streaming, time to first event when streaming. */
    timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
    /** Streaming: the longest silence tolerated between events once the stream has started. */
    idleTimeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
    /** Hidden models can be routed to but are not listed or directly requestable. */
    hidden: z.boolean().default(false),
  })
  .strict();

/**
 * An opt-in capability: absent = off. (zod's `.optional()` would still apply the section's own defaults and so
 * switch the capability on.)
 */
function optionalSection<T extends z.ZodType>(section: T) {
  return z.union([z.undefined(), section]).optional();
}

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        bodyLimitBytes: z.number().int().min(1024).default(10 * 1024 * 1024),
        /** Log prompt text (off by default: prompts are personal data). */
        logPrompts: z.boolean().default(false),
        logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Grace period for in-flight requests on shutdown. */
        shutdownGraceMs: z.number().int().min(0).default(10_000),
        /** Deepest JSON nesting accepted in a request body (and in JSON text inside it, such as tool arguments). */
        maxJsonDepth: z.number().int().min(8).max(1000).default(DEFAULT_MAX_JSON_DEPTH),
        /** GET /v1/models without a key, listing every non-hidden model; off: a key is required and the list is the caller's. */
        publicModels: z.boolean().default(false),
        /** Slow clients: longest wait for a request's headers, and for the whole request (headers and body). */
        headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** Most client connections open at once; further ones are closed as they arrive. */
        maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 10 * 1024 * 1024, logPrompts: false, logLevel: 'info', shutdownGraceMs: 10_000, maxJsonDepth: DEFAULT_MAX_JSON_DEPTH, publicModels: false, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000 }),
    admin: z
      .object({
        /** Environment variable holding the admin bearer token; admin API is disabled when unset. */
        tokenEnv: z.string().default('GATEHOUSE_ADMIN_TOKEN'),
      })
      .strict()
      .default({ tokenEnv: 'GATEHOUSE_ADMIN_TOKEN' }),
    overload: z
      .object({
        /** Chat requests this process handles at once; beyond it a request gets 503 `overloaded` with retry-after. */
        maxInFlight: z.number().int().min(1).default(1024),
        /** The retry-after (seconds) sent with that 503. */
        retryAfterSeconds: z.number().int().min(1).max(3600).default(1),
        /** /readyz says not ready while the event loop's p99 delay over the last 5 s exceeds this. */
        readyMaxEventLoopDelayMs: z.number().min(1).default(500),
      })
      .strict()
      .prefault({}),
    /** OpenTelemetry traces over OTLP/HTTP (JSON); absent, tracing is off and costs nothing. */
    tracing: z
      .object({
        /** The collector's traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
        endpoint: z.string().url(),
        /** Extra HTTP headers for the export (e.g. an authorization header for a hosted collector). */
        headers: z.record(z.string(), z.string()).default({}),
        /** Share of new traces recorded, 0–1; a caller's traceparent sampled flag is honoured. */
        sampleRatio: z.number().min(0).max(1).default(1),
        serviceName: z.string().min(1).default('gatehouse'),
      })
      .strict()
      .optional(),
    store: storeSection,
    identity: identitySection,
    redis: z.object({ url: z.string().optional() }).strict().default({}),
    routing: z
      .object({
        /** Most upstream attempts per request, the first included. */
        maxAttempts: z.number().int().min(1).max(10).default(3),
        /** Overall deadline for all attempts together. */
        deadlineMs: z.number().int().min(1).default(120_000),
      })
      .strict()
      .default({ maxAttempts: 3, deadlineMs: 120_000 }),
    providers: z.record(z.string(), providerSchema),
    models: z.array(modelSchema).min(1),
    // Capability sections: each capability owns its schema (see its folder's README).
    policy: policySection,
    directives: directivesSection,
    classify: optionalSection(classifySection),
    meter: meterSection,
    limits: optionalSection(limitsSection),
    audit: optionalSection(auditSection),
    abuse: optionalSection(abuseSection),
    incidents: incidentsSection,
    notifications: notificationsSection,
    console: consoleSection,
    programmes: programmesSection,
  })
  .strict();

export type GatewayConfig = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type ProviderConfig = RegisteredProviderConfig;
