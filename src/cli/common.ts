/**
 * Shared plumbing for the capabilities' CLIs: flag parsing, opening (and migrating) the store, and uniform error
 * reporting with exit codes. Capabilities import this module; it imports no capability (the full migration list
 * comes from the composition root, server/migrations.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ALL_MIGRATIONS } from '../server/migrations.ts';
import type { Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { openDb, redactUrl, resolveStoreUrl } from '../store/open.ts';
import { PolicyValidationError, formatIssue } from '../core/validation.ts';

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

/**
 * `gatehouse <command> <sub> …`: no subcommand prints the usage to stderr (exit 2); `help`, `-h` and `--help` print it
 * to stdout (exit 0); otherwise runs `fn(sub, rest)` through `runCommand`.
 */
export async function runSubcommand(command: string, argv: string[], usage: string, io: Io, fn: (sub: string, rest: string[]) => Promise<number>): Promise<number> {
  const [, sub, ...rest] = argv;
  if (!sub || sub === '-h' || sub === '--help' || sub === 'help') {
    (sub ? io.out : io.err)(usage);
    return sub ? 0 : 2;
  }
  return runCommand(`${command} ${sub}`, usage, io, () => fn(sub, rest));
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
