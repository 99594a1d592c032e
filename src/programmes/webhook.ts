/**
 * Pure: verification of a KYC provider's signed event. The provider sends the JSON body and
 * `x-kyc-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { KYC_LEVELS, type KycLevel } from '../core/types.ts';

export interface KycEvent {
  eventId: string;
  accountId: string;
  level: KycLevel;
  /** Provider time of the event (ms), from the signature timestamp. */
  time: number;
}

export type VerifyResult = { ok: true; event: KycEvent } | { ok: false; status: 400 | 401; code: string; message: string };

export function sign(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export function verifyKycEvent(secret: string, header: string | undefined, body: string, nowMs: number, toleranceSeconds: number): VerifyResult {
  if (!header) return { ok: false, status: 401, code: 'missing_signature', message: 'The x-kyc-signature header is missing.' };
  const parts = new Map(header.split(',').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()] as const; }));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, status: 401, code: 'malformed_signature', message: 'The x-kyc-signature header must be t=<unix seconds>,v1=<64 hex digits>.' };
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex'))) return { ok: false, status: 401, code: 'bad_signature', message: 'The signature does not match the body and timestamp.' };
  const skew = Math.abs(nowMs / 1000 - Number(t));
  if (skew > toleranceSeconds) return { ok: false, status: 401, code: 'stale_timestamp', message: `The signature timestamp is ${Math.round(skew)} s from now; the replay window is ${toleranceSeconds} s.` };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return { ok: false, status: 400, code: 'invalid_json', message: `The body is not valid JSON: ${(err as Error).message}.` };
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, status: 400, code: 'invalid_event', message: 'The body must be a JSON object {id, accountId, level}.' };
  for (const k of ['id', 'accountId'] as const) {
    if (typeof v[k] !== 'string' || !(v[k] as string).trim() || (v[k] as string).length > 200) return { ok: false, status: 400, code: 'invalid_event', message: `'${k}' must be a non-empty string of at most 200 characters.` };
  }
  if (typeof v.level !== 'string' || !KYC_LEVELS.includes(v.level as KycLevel)) return { ok: false, status: 400, code: 'invalid_event', message: `'level' must be one of ${KYC_LEVELS.join(', ')}.` };
  return { ok: true, event: { eventId: v.id as string, accountId: v.accountId as string, level: v.level as KycLevel, time: Number(t) * 1000 } };
}
