import type { z } from 'zod';
import { truncateEcho } from '../core/echo.ts';
import { invalid, type GatewayError } from './errors.ts';

/** Turns the first zod issue into a precise 400: JSON path, what was expected, what was found. */
export function zodToError(error: z.ZodError, input: unknown): GatewayError {
  const issue = error.issues[0]!;
  // Paths, keys and values come from the client: each echo is bounded.
  const path = truncateEcho(formatPath(issue.path));
  const found = describe(valueAt(input, issue.path));
  let message: string;
  switch (issue.code) {
    case 'invalid_type':
      message =
        found === 'undefined'
          ? `Missing required parameter: '${path}'.`
          : `Invalid type for '${path}': expected ${issue.expected}, but got ${found}.`;
      break;
    case 'invalid_value':
      message = `Invalid value for '${path}': expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, but got ${echoValue(valueAt(input, issue.path))}.`;
      break;
    case 'unrecognized_keys':
      message = `Unrecognized parameter${issue.keys.length > 1 ? 's' : ''} at '${path || '(root)'}': ${truncateEcho(issue.keys.join(', '))}.`;
      break;
    default:
      message = `Invalid value for '${path || '(root)'}': ${issue.message}.`;
  }
  return invalid(message, path || null);
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function echoValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(truncateEcho(v));
  try {
    return truncateEcho(JSON.stringify(v) ?? String(v));
  } catch {
    return typeof v; // too deeply nested to print
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
