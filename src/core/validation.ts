/**
 * Precise error locations for YAML and JSON inputs. A zod issue carries a JSON path; `locate` turns that path
 * into `file:line:col` by walking the YAML document (keys for unknown fields, values otherwise). Inputs that did
 * not come from a file (admin API bodies) are reported by JSON path alone.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

export interface Issue {
  /** JSON path, e.g. `rules[3].when.nationality.anyOf[1]`, or `(root)`. */
  path: string;
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

export function formatIssue(i: Issue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ''}: ` : '';
  return `${where}${i.path}: ${i.message}`;
}

/** Thrown for any invalid policy, country group, directive or licence. Carries every issue found. */
export class PolicyValidationError extends Error {
  constructor(readonly issues: Issue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'PolicyValidationError';
  }
}

/** A JSON path as text, e.g. `rules[3].when`; the empty string for the root. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** A JSON path as text, `(root)` for the root. */
export function formatPath(path: readonly PropertyKey[]): string {
  return jsonPath(path) || '(root)';
}

/** The value at a JSON path of an input, or undefined where the path leads nowhere. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** What a zod issue says, for a wording to put into words: where, the value found there (undefined: none), zod's message. */
export interface IssueFacts {
  readonly path: readonly PropertyKey[];
  readonly found: unknown;
  readonly message: string;
}

/**
 * How one surface words zod issues (a config file, an API request body, an admin input). `required` and
 * `wrongType` split `invalid_type` on whether a value was found; a kind without its own wording, and every other
 * issue, goes to `other` (default: zod's message).
 */
export interface IssueWording {
  required(f: IssueFacts & { expected: string }): string;
  wrongType(f: IssueFacts & { expected: string }): string;
  notOneOf?(f: IssueFacts & { values: readonly unknown[] }): string;
  unknownKeys?(f: IssueFacts & { keys: readonly string[] }): string;
  union?(f: IssueFacts): string;
  other?(f: IssueFacts): string;
}

/** The message for one zod issue in a surface's wording; `found` is the value at the issue's path (undefined: none). */
export function issueMessage(issue: z.core.$ZodIssue, found: unknown, wording: IssueWording): string {
  const facts: IssueFacts = { path: issue.path, found, message: issue.message };
  switch (issue.code) {
    case 'invalid_type':
      return found === undefined ? wording.required({ ...facts, expected: issue.expected }) : wording.wrongType({ ...facts, expected: issue.expected });
    case 'invalid_value':
      if (wording.notOneOf) return wording.notOneOf({ ...facts, values: issue.values });
      break;
    case 'unrecognized_keys':
      if (wording.unknownKeys) return wording.unknownKeys({ ...facts, keys: issue.keys });
      break;
    case 'invalid_union':
      if (wording.union) return wording.union(facts);
      break;
  }
  return wording.other ? wording.other(facts) : issue.message;
}

/** Nouns for a list and a mapping: YAML's (`a list`, `a mapping`) or JSON's (`an array`, `an object`). */
export const YAML_NOUNS = { list: 'a list', map: 'a mapping' } as const;
export const JSON_NOUNS = { list: 'an array', map: 'an object' } as const;

/** A found value for a message: its type, and for scalars the value (strings cut at 40 characters). */
export function describeValue(value: unknown, nouns: { readonly list: string; readonly map: string } = YAML_NOUNS): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return nouns.list;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value === 'object' ? nouns.map : typeof value;
}

/** The wording of located issues (policy, directives, keys): `is required`, `expected string, got number 5`. */
export function plainWording(nouns: { readonly list: string; readonly map: string } = YAML_NOUNS): IssueWording {
  return {
    required: () => 'is required',
    wrongType: (f) => `expected ${f.expected}, got ${describeValue(f.found, nouns)}`,
  };
}

const PLAIN_YAML = plainWording(YAML_NOUNS);

/** A parsed YAML source that can point at any JSON path inside it. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses YAML text; a syntax error becomes a PolicyValidationError with line and column. */
  static parse(text: string, file: string): { source: YamlSource; value: unknown } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new PolicyValidationError(
        doc.errors.map((e) => {
          const pos = lines.linePos(e.pos[0]);
          return { file, line: pos.line, col: pos.col, path: '(root)', message: `invalid YAML: ${e.message.split('\n')[0]}` };
        }),
      );
    }
    return { source: new YamlSource(file, doc, lines), value: doc.toJS({ maxAliasCount: 100 }) };
  }

  /** A document already parsed with `lines` as its line counter. */
  static of(file: string, doc: Document, lines: LineCounter): YamlSource {
    return new YamlSource(file, doc, lines);
  }

  /** Line/col of the map key that ends `path`; undefined unless every step before it exists and ends in a map with that key. */
  locateKey(path: readonly PropertyKey[]): { line: number; col: number } | undefined {
    if (path.length === 0) return undefined;
    let node: unknown = this.doc.contents;
    for (const seg of path.slice(0, -1)) {
      const next = child(node, seg);
      if (next === undefined) return undefined;
      node = next.value;
    }
    if (!isMap(node)) return undefined;
    const last = String(path[path.length - 1]);
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
    const offset = pair ? rangeStart(pair.key) : undefined;
    return offset === undefined ? undefined : this.lines.linePos(offset);
  }

  /** Line/col of the deepest node on `path` that exists; `key` points at a map key instead of its value. */
  locate(path: readonly PropertyKey[], key?: string): { line: number; col: number } | undefined {
    let node: unknown = this.doc.contents;
    let offset: number | undefined = rangeStart(node);
    for (const seg of path) {
      const next = child(node, seg);
      if (next === undefined) break;
      node = next.value;
      offset = rangeStart(next.value) ?? rangeStart(next.key) ?? offset;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair) offset = rangeStart(pair.key) ?? offset;
    }
    if (offset === undefined) return undefined;
    return this.lines.linePos(offset);
  }

  /** With `key`, the last path segment is that key and the position is the key's, not its value's. */
  issue(path: readonly PropertyKey[], message: string, key?: string): Issue {
    const pos = key !== undefined ? this.locate(path.slice(0, -1), key) : this.locate(path);
    return { file: this.file, path: formatPath(path), message, ...(pos ? { line: pos.line, col: pos.col } : {}) };
  }
}

function child(node: unknown, seg: PropertyKey): { key?: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Where issues are reported: a YAML file (with lines) or a JSON body (paths only, under an optional prefix). */
export interface IssueSink {
  issue(path: readonly PropertyKey[], message: string, key?: string): Issue;
}

export function jsonSink(prefix: readonly PropertyKey[] = []): IssueSink {
  return { issue: (path, message) => ({ path: formatPath([...prefix, ...path]), message }) };
}

export function prefixed(sink: IssueSink, prefix: readonly PropertyKey[]): IssueSink {
  return { issue: (path, message, key) => sink.issue([...prefix, ...path], message, key) };
}

/** Zod issues as located Issues, with messages that name the offending value. */
export function zodIssues(error: z.ZodError, sink: IssueSink): Issue[] {
  const out: Issue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push(sink.issue([...issue.path, k], `unknown field '${k}'`, k));
      continue;
    }
    if (issue.code === 'invalid_union' && 'errors' in issue) {
      // Report the branch that got furthest (the longest path), not zod's generic "invalid input".
      const branches = (issue.errors as z.core.$ZodIssue[][]).flat();
      if (branches.length > 0) {
        const best = branches.reduce((a, b) => (b.path.length > a.path.length ? b : a));
        out.push(sink.issue([...issue.path, ...best.path], best.message));
        continue;
      }
    }
    out.push(sink.issue(issue.path, issueMessage(issue, issue.input, PLAIN_YAML)));
  }
  return out;
}
