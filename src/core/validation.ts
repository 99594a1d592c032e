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

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

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
    let message = issue.message;
    if (issue.code === 'invalid_type') {
      message = issue.input === undefined ? 'is required' : `expected ${issue.expected}, got ${describe(issue.input)}`;
    }
    out.push(sink.issue(issue.path, message));
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value === 'object' ? 'a mapping' : typeof value;
}
