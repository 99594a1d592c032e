/**
 * The gateway config's sections the policy, licences and directives CLIs read (policy, directives, model names and
 * fallbacks). The config file is read as plain YAML so these commands work even while other sections evolve.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CommandError } from '../cli/common.ts';
import { formatPath } from '../core/validation.ts';
import { configSchema as directivesConfigSchema, type DirectivesConfig } from '../directives/config.ts';
import { configSchema as policyConfigSchema, type PolicyConfig } from './config.ts';

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
