/**
 * Bounded JSON nesting. V8's JSON.parse is iterative and accepts any depth, but much that runs after it is not
 * (JSON.stringify, structured clone, recursive walkers in translation, fingerprinting and the SDKs of upstreams):
 * a body nested a hundred thousand levels deep would overflow the stack far from where it came in. Every parsed
 * body is therefore checked here, right after JSON.parse and before anything recursive sees it.
 *
 * The check walks containers only (strings, numbers and the bytes inside them cost nothing), with an explicit
 * stack, so its own depth is bounded by the heap, not the call stack.
 */
import { jsonPath } from '../core/validation.ts';

/** The default bound on nesting: the request root is level 1, so tool arguments keep ~57 levels of their own. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * The JSON path (as `a.b[2].c`) of the first container nested deeper than `max` levels, or null when the value
 * is within bounds. `max` counts containers: `{}` is depth 1, `{"a":[]}` is depth 2; scalars add nothing.
 */
export function excessiveDepthPath(value: unknown, max: number): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (!exceeds(value, max)) return null;
  return jsonPath(pathToDepth(value, max + 1));
}

/** Allocation-light pass: is any container nested deeper than `max`? Values and depths share one stack. */
function exceeds(root: object, max: number): boolean {
  const stack: unknown[] = [root, 1];
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const v = stack.pop() as object;
    if (depth > max) return true;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c: unknown = v[i];
        if (c !== null && typeof c === 'object') stack.push(c, depth + 1);
      }
    } else {
      for (const k in v) {
        const c: unknown = (v as Record<string, unknown>)[k];
        if (c !== null && typeof c === 'object') stack.push(c, depth + 1);
      }
    }
  }
  return false;
}

/** Only when the bound is broken (rare): the path to the first container at `depth`, found depth-first. */
function pathToDepth(root: object, depth: number): PropertyKey[] {
  const stack: { v: object; path: PropertyKey[] }[] = [{ v: root, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (path.length + 1 >= depth) return path;
    const children: { v: object; path: PropertyKey[] }[] = [];
    if (Array.isArray(v)) {
      v.forEach((c: unknown, i) => {
        if (c !== null && typeof c === 'object') children.push({ v: c, path: [...path, i] });
      });
    } else {
      for (const k in v) {
        const c: unknown = (v as Record<string, unknown>)[k];
        if (c !== null && typeof c === 'object') children.push({ v: c, path: [...path, k] });
      }
    }
    // Reverse so the first child is explored first: the reported path is the first offending one in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return [];
}

/** Joins a JSON path prefix (as formatted by jsonPath) with a relative one. */
export function joinPath(prefix: string, rel: string): string {
  if (!rel) return prefix;
  if (!prefix) return rel;
  return rel.startsWith('[') ? prefix + rel : `${prefix}.${rel}`;
}

export function depthMessage(path: string, max: number): string {
  return `The request nests JSON more than ${max} levels deep at '${path || '(root)'}'; the limit is ${max} levels.`;
}
