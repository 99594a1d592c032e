/**
 * Shared plumbing for the policy, licences and directives CLIs: flag parsing, the gateway config's sections
 * this capability reads (policy, directives, model names), opening the store, and uniform error reporting.
 * The config file is read as plain YAML so these commands work even while other sections evolve.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { configSchema as directivesConfigSchema, type DirectivesConfig } from '../directives/config.ts';
import { ALL_MIGRATIONS } from '../store/all-migrations.ts';
import type { Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { openDb, redactUrl, resolveStoreUrl } from '../store/open.ts';
import { configSchema as policyConfigSchema, type PolicyConfig } from './config.ts';
import { formatPath, PolicyValidationError, formatIssue } from './source.ts';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}
export const defaultIo = (): Io => ({ out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env });

export class UsageError extends Error {}
/** An expected failure (not found, conflict…): printed without a stack, exit 1. */
export class CommandError extends Error {}

export const COMMON_OPTIONS = {
  store: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type Values = Record<string, string | boolean | string[] | undefined>;

export function parseFlags(args: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export interface CapabilityConfig {
  policy: PolicyConfig;
  directives: DirectivesConfig;
  models: string[];
  /** Each model's fallbacks as the gateway attempts them (existing models, capped by routing.maxAttempts). */
  fallbacks: Map<string, string[]>;
  baseDir: string;
}

/** The policy/directives sections and model names from a gateway config file (defaults when absent). */
export function readCapabilityConfig(path: string | undefined): CapabilityConfig {
  if (!path) return { policy: policyConfigSchema.parse(undefined), directives: directivesConfigSchema.parse(undefined), models: [], fallbacks: new Map(), baseDir: process.cwd() };
  let doc: Record<string, unknown>;
  try {
    doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new CommandError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const policy = policyConfigSchema.safeParse(doc.policy ?? undefined);
  if (!policy.success) throw new CommandError(`${path}: ${policy.error.issues.map((i) => `policy.${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  const directives = directivesConfigSchema.safeParse(doc.directives ?? undefined);
  if (!directives.success) throw new CommandError(`${path}: ${directives.error.issues.map((i) => `directives.${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  const entries = Array.isArray(doc.models) ? (doc.models as Array<{ name?: unknown; fallbacks?: unknown }>).filter((m) => typeof m?.name === 'string') : [];
  const models = entries.map((m) => m.name as string);
  const maxAttempts = Number((doc.routing as { maxAttempts?: unknown } | undefined)?.maxAttempts ?? 3) || 3;
  const known = new Set(models);
  const fallbacks = new Map<string, string[]>();
  for (const m of entries) {
    const list = Array.isArray(m.fallbacks) ? m.fallbacks.filter((f): f is string => typeof f === 'string' && known.has(f)) : [];
    fallbacks.set(m.name as string, list.slice(0, Math.max(0, maxAttempts - 1)));
  }
  return { policy: policy.data, directives: directives.data, models, fallbacks, baseDir: dirname(resolve(path)) };
}

export async function withStore<T>(values: Values, io: Io, fn: (db: Db) => Promise<T>): Promise<T> {
  const url = resolveStoreUrl({ flag: values.store as string | undefined, configPath: values.config as string | undefined, env: io.env });
  let db: Db;
  try {
    db = await openDb(url);
  } catch (err) {
    throw new CommandError(`cannot open store ${redactUrl(url)}: ${(err as Error).message}`);
  }
  try {
    await migrate(db, ALL_MIGRATIONS);
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Runs a subcommand, mapping errors to exit codes: 2 usage/invalid input, 1 failure. */
export async function runCommand(name: string, usage: string, io: Io, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`gatehouse ${name}: ${err.message}\n\n${usage}`);
      return 2;
    }
    if (err instanceof PolicyValidationError) {
      io.err(`gatehouse ${name}: invalid input:\n${err.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}\n`);
      return 2;
    }
    io.err(`gatehouse ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

export function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

/** Parses a predicate flag given as JSON or YAML flow/block text. */
export function parseStructured(text: string, flag: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(`${flag}: not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function list(value: string | boolean | string[] | undefined): string[] | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  return items;
}
