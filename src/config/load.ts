/**
 * Loads and validates the YAML config, reporting every problem as `file:line:col: path: expected …, found …`.
 * Cross-references (model → provider, fallbacks → models, fallback cycles) are checked after the schema.
 */
import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../protocol/validate.ts';
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

export function loadConfigFile(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = '<config>'): GatewayConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 0, col: 0 };
    problems.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` });
  }
  if (problems.length) throw new ConfigError(problems);
  const raw: unknown = doc.toJS();
  const locate = (path: readonly PropertyKey[]) => position(doc, lineCounter, path);
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      // An unknown key is best shown at the key itself, not at the map that holds it.
      const at = issue.code === 'unrecognized_keys' && issue.keys.length === 1 ? [...issue.path, issue.keys[0]!] : issue.path;
      const { line, column } = keyPosition(doc, lineCounter, at) ?? locate(issue.path);
      problems.push({ file, line, column, path: formatPath(issue.path), message: describeIssue(issue, raw) });
    }
    throw new ConfigError(problems);
  }
  const config = result.data;
  crossCheck(config, (path, message) => {
    const { line, column } = locate(path);
    problems.push({ file, line, column, path: formatPath(path), message });
  });
  if (problems.length) throw new ConfigError(problems);
  return config;
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
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const found = valueAt(raw, issue.path);
  const foundText = found === undefined ? 'nothing' : JSON.stringify(found)?.slice(0, 80) ?? String(found);
  switch (issue.code) {
    case 'invalid_type':
      return found === undefined ? `expected ${issue.expected}, found nothing (required)` : `expected ${issue.expected}, found ${foundText}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${foundText}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_union':
      return `expected a valid value (${issue.message}), found ${foundText}`;
    default:
      return `${issue.message}, found ${foundText}`;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function keyPosition(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): { line: number; column: number } | undefined {
  const parent = doc.getIn(path.slice(0, -1) as unknown[], true);
  if (!isMap(parent)) return undefined;
  const last = String(path[path.length - 1]);
  for (const pair of parent.items) {
    if (isScalar(pair.key) && String(pair.key.value) === last && pair.key.range) {
      const p = lc.linePos(pair.key.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return undefined;
}

/** Finds the closest YAML node for a path (unrecognized keys point at their parent) and returns its position. */
function position(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return { line: 1, column: 1 };
}
