/**
 * Loads and validates the YAML config, reporting every problem as `file:line:col: path: expected …, found …`.
 * Cross-references (model → provider, fallbacks and route targets → models) are checked after the schema.
 * Relative paths in the file resolve against the file's directory (`resolveConfigPaths`), so a config means the
 * same thing whatever directory the gateway or a CLI command is started from.
 * What the capabilities themselves check (policy files, classifier artefacts, keys) is added by
 * server/validate.ts, which both `serve` and `config check` go through.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { issueMessage, jsonPath, valueAt, YamlSource, type IssueWording } from '../core/validation.ts';
import { resolveAbusePaths } from '../abuse/config.ts';
import { resolveAuditPaths } from '../audit/config.ts';
import { resolveClassifyPaths } from '../classify/config.ts';
import { resolveStoreUrlPath } from '../store/config.ts';
import { configSchema, type GatewayConfig } from './schema.ts';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path || '(root)'}: ${p.message}`;
}

/** A loaded config and a way to point at any of its paths (for problems found after loading). */
export interface LoadedConfig {
  config: GatewayConfig;
  file: string;
  /** Cross-reference problems (unknown provider, fallback or route target): the file parsed but cannot be used. */
  problems: ConfigProblem[];
  /** Position of the YAML node at `path` (or its closest existing ancestor). */
  locate(path: readonly PropertyKey[]): { line: number; column: number };
}

export function loadConfigFile(file: string): GatewayConfig {
  const loaded = readConfigFile(file);
  if (loaded.problems.length) throw new ConfigError(loaded.problems);
  return loaded.config;
}

/**
 * Reads and validates a config file; relative paths in it are resolved against its directory. Throws ConfigError
 * for YAML and schema problems; cross-reference problems are returned, so a caller can add its own and report all.
 */
export function readConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  const loaded = parseConfigText(text, file);
  loaded.config = resolveConfigPaths(loaded.config, dirname(resolve(file)));
  return loaded;
}

/** Parses config text (paths are left as written: there is no file to resolve them against). */
export function parseConfig(text: string, file = '<config>'): GatewayConfig {
  const loaded = parseConfigText(text, file);
  if (loaded.problems.length) throw new ConfigError(loaded.problems);
  return loaded.config;
}

function parseConfigText(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    // e.linePos is only filled in with prettyErrors; the offset is always there.
    const pos = lineCounter.linePos(e.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` });
  }
  if (problems.length) throw new ConfigError(problems);
  const raw: unknown = doc.toJS();
  const source = YamlSource.of(file, doc, lineCounter);
  // The deepest node of the path that exists (1:1 for an empty document).
  const locate = (path: readonly PropertyKey[]) => {
    const p = source.locate(path);
    return p ? { line: p.line, column: p.col } : { line: 1, column: 1 };
  };
  // A problem with a map entry is shown at its key.
  const locateKey = (path: readonly PropertyKey[]) => {
    const p = source.locateKey(path);
    return p ? { line: p.line, column: p.col } : undefined;
  };
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      // An unknown key is best shown at the key itself, not at the map that holds it.
      const at = issue.code === 'unrecognized_keys' && issue.keys.length === 1 ? [...issue.path, issue.keys[0]!] : issue.path;
      const { line, column } = locateKey(at) ?? locate(issue.path);
      problems.push({ file, line, column, path: jsonPath(issue.path), message: issueMessage(issue, valueAt(raw, issue.path), CONFIG_WORDING) });
    }
    throw new ConfigError(problems);
  }
  const config = result.data;
  crossCheck(config, (path, message) => {
    const { line, column } = locate(path);
    problems.push({ file, line, column, path: jsonPath(path), message });
  });
  return { config, file, locate, problems };
}

/**
 * Resolves every file path in the config against `baseDir` (the config file's directory): `store.url` (sqlite:),
 * `audit.path`, `audit.retention.dir`, `audit.signingKey` when it names a file, `policy.file`,
 * `policy.countryGroupFiles`, `classify.model` (unless `default`), ONNX `classify.cascade[].path`,
 * `abuse.snapshotFile`. Defaults count as written in the file.
 */
export function resolveConfigPaths(config: GatewayConfig, baseDir: string): GatewayConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const out: GatewayConfig = { ...config, store: { ...config.store, url: resolveStoreUrlPath(config.store.url, baseDir) } };
  out.policy = { ...config.policy, file: config.policy.file ? at(config.policy.file) : config.policy.file, countryGroupFiles: config.policy.countryGroupFiles.map(at) };
  // Each capability knows which of its keys are paths (its CLI, reading only its own section, resolves them the same way).
  if (config.audit) out.audit = resolveAuditPaths(config.audit, baseDir);
  if (config.classify) out.classify = resolveClassifyPaths(config.classify, baseDir);
  if (config.abuse) out.abuse = resolveAbusePaths(config.abuse, baseDir);
  if (config.incidents.regimesFile) out.incidents = { ...config.incidents, regimesFile: at(config.incidents.regimesFile) };
  return out;
}

function crossCheck(config: GatewayConfig, report: (path: (string | number)[], message: string) => void): void {
  const names = new Map<string, number>();
  config.models.forEach((m, i) => {
    if (names.has(m.name)) report(['models', i, 'name'], `duplicate model name '${m.name}' (first defined at models[${names.get(m.name)}])`);
    names.set(m.name, i);
    if (!config.providers[m.provider]) {
      report(['models', i, 'provider'], `expected one of the configured providers (${Object.keys(config.providers).join(', ') || 'none'}), found '${m.provider}'`);
    }
  });
  config.models.forEach((m, i) => {
    m.fallbacks.forEach((f, j) => {
      if (!names.has(f)) report(['models', i, 'fallbacks', j], `expected a configured model name, found '${f}'`);
      if (f === m.name) report(['models', i, 'fallbacks', j], `a model cannot fall back to itself`);
    });
  });
  // Classifier `route:<model>` actions, live and shadow, must name a model a request can be routed to.
  const checkTiers = (tiers: Record<string, Record<string, { action: string } | undefined>>, prefix: (string | number)[]) => {
    for (const [tier, rules] of Object.entries(tiers)) {
      for (const [label, rule] of Object.entries(rules)) {
        if (!rule?.action.startsWith('route:')) continue;
        const target = rule.action.slice('route:'.length);
        if (!names.has(target)) report([...prefix, tier, label, 'action'], `expected route:<a configured model name>, found '${rule.action}'`);
      }
    }
  };
  if (config.classify && config.classify.enabled !== false) {
    checkTiers(config.classify.tiers, ['classify', 'tiers']);
    if (config.classify.shadow) checkTiers(config.classify.shadow.tiers, ['classify', 'shadow', 'tiers']);
  }
  // The abuse `degrade` action routes the account to this model.
  if (config.abuse && config.abuse.enabled !== false && !names.has(config.abuse.degradedModel)) {
    report(['abuse', 'degradedModel'], `expected a configured model name (accounts under 'degrade' are routed to it), found '${config.abuse.degradedModel}'`);
  }
}

/** How a config problem reads: `expected …, found …`, the value found shown as JSON (cut at 80 characters). */
const foundText = (found: unknown) => (found === undefined ? 'nothing' : JSON.stringify(found)?.slice(0, 80) ?? String(found));
const CONFIG_WORDING: IssueWording = {
  required: (f) => `expected ${f.expected}, found nothing (required)`,
  wrongType: (f) => `expected ${f.expected}, found ${foundText(f.found)}`,
  notOneOf: (f) => `expected one of ${f.values.map((v) => JSON.stringify(v)).join(', ')}, found ${foundText(f.found)}`,
  unknownKeys: (f) => `unknown key${f.keys.length > 1 ? 's' : ''} ${f.keys.map((k) => `'${k}'`).join(', ')}`,
  union: (f) => `expected a valid value (${f.message}), found ${foundText(f.found)}`,
  other: (f) => `${f.message}, found ${foundText(f.found)}`,
};
