import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { retentionSchema } from './retention.ts';

/** YAML section `audit:`. Every key has a default, so an absent section gives a working local log. */
export const configSchema = z
  .object({
    /** Active audit file (JSONL, one record per line). Quarantined and older segments live beside it. */
    path: z.string().min(1).default('data/audit/audit.jsonl'),
    /** Ed25519 private key for checkpoints: PEM, base64 PKCS#8 DER, or a file path. No key = no checkpoints. */
    signingKey: z.string().optional(),
    /** Seal a signed checkpoint after this many records… */
    checkpointEvery: z.number().int().min(1).default(1000),
    /** …or after this long with unsealed records, whichever comes first. */
    checkpointIntervalMs: z.number().int().min(100).default(60_000),
    /** HMAC-SHA256 key for prompt/response text hashes (text itself is never logged). Literal or `env:NAME`. */
    textHashKey: z.string().optional(),
    /** What to do while the log cannot be written (ENOSPC, EACCES…): refuse requests with 503, or serve unaudited. */
    onWriteFailure: z.enum(['refuse', 'serve']).default('refuse'),
    /** While unhealthy, try to write again this often. */
    retryIntervalMs: z.number().int().min(50).default(5_000),
    /** Start-up check reads at most this many bytes from the end of the file (the whole file when smaller). */
    tailVerifyBytes: z.number().int().min(4096).default(64 * 1024 * 1024),
    /** Most records written per group commit. */
    maxBatch: z.number().int().min(1).default(4096),
    /** Batches written concurrently (each at its own offset, acknowledged in order); 1 = one sync at a time. */
    maxWritesInFlight: z.number().int().min(1).max(64).default(4),
    /** Start a new file (the old one renamed to `<path>.<time>-<seq>`, the chain continuing) past this size. */
    rotateBytes: z.number().int().min(4096).default(256 * 1024 * 1024),
    /** Optional encrypted retention of prompt/response text (off by default). */
    retention: retentionSchema,
  })
  .strict()
  .prefault({});

export type AuditConfig = z.infer<typeof configSchema>;
export type AuditConfigInput = z.input<typeof configSchema>;

/**
 * Paths in a config file are relative to it: `path`, `retention.dir`, and `signingKey` when it names a file (a key
 * can also be PEM text or base64 DER; a relative spec is a path when that file exists or it cannot be base64).
 */
export function resolveAuditPaths(config: AuditConfig, baseDir: string): AuditConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const out: AuditConfig = { ...config, path: at(config.path), retention: { ...config.retention, dir: at(config.retention.dir) } };
  const key = config.signingKey?.trim();
  if (key !== undefined && !key.startsWith('-----BEGIN') && !isAbsolute(key)) {
    const candidate = resolve(baseDir, key);
    if (existsSync(candidate) || !/^[A-Za-z0-9+/=\s]+$/.test(key)) out.signingKey = candidate;
  }
  return out;
}
