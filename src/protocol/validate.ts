import type { z } from 'zod';
import { truncateEcho } from '../core/echo.ts';
import { issueMessage, jsonPath, valueAt, type IssueWording } from '../core/validation.ts';
import { invalid, type GatewayError } from './errors.ts';

/** A JSON path as the API's errors show it: bounded, since paths and keys come from the client. */
const shown = (path: readonly PropertyKey[]) => truncateEcho(jsonPath(path));

/** The wording of request-body errors, in the OpenAI API's style. */
const REQUEST_WORDING: IssueWording = {
  required: (f) => `Missing required parameter: '${shown(f.path)}'.`,
  wrongType: (f) => `Invalid type for '${shown(f.path)}': expected ${f.expected}, but got ${describe(f.found)}.`,
  notOneOf: (f) => `Invalid value for '${shown(f.path)}': expected one of ${f.values.map((v) => JSON.stringify(v)).join(', ')}, but got ${echoValue(f.found)}.`,
  unknownKeys: (f) => `Unrecognized parameter${f.keys.length > 1 ? 's' : ''} at '${shown(f.path) || '(root)'}': ${truncateEcho(f.keys.join(', '))}.`,
  other: (f) => `Invalid value for '${shown(f.path) || '(root)'}': ${f.message}.`,
};

/** Turns the first zod issue into a precise 400: JSON path, what was expected, what was found. */
export function zodToError(error: z.ZodError, input: unknown): GatewayError {
  const issue = error.issues[0]!;
  const path = shown(issue.path);
  return invalid(issueMessage(issue, valueAt(input, issue.path), REQUEST_WORDING), path || null);
}

function echoValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(truncateEcho(v));
  try {
    return truncateEcho(JSON.stringify(v) ?? String(v));
  } catch {
    return typeof v; // too deeply nested to print
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
