import { z } from 'zod';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch milliseconds, an ISO 8601 time with an explicit offset, or `"now"` (the time the request is validated — the
 * same words the CLI's time flags take); one precise message for anything else.
 */
export const epochOrIso = z.unknown().transform((v, ctx): number => {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 8.64e15) return v;
  if (v === 'now') return Date.now();
  if (typeof v === 'string' && ISO.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return ms;
  }
  ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 time with offset (e.g. 2026-11-23T14:00:00Z) or epoch milliseconds, got ${preview(v)}` });
  return z.NEVER;
});

/** Parses a CLI time flag: `now`, ISO 8601 with offset, or epoch milliseconds. */
export function parseTimeFlag(value: string, flag: string): number {
  if (value === 'now') return Date.now();
  if (/^\d+$/.test(value)) return Number(value);
  const r = epochOrIso.safeParse(value);
  if (!r.success) throw new Error(`${flag}: ${r.error.issues[0]!.message}`);
  return r.data;
}

/** What was given, short: a message must not echo a megabyte string or a whole nested structure back. */
function preview(v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}… (${v.length} characters)` : JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}
