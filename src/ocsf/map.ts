/**
 * Audit records → OCSF 1.3.0 events (field mapping documented in docs/ocsf.md). Pure: one record in, zero or more
 * events out, in a fixed order. Request records become API Activity (6003), except failed authentications (401),
 * which become Authentication (3002); a classifier refusal or an output-moderation stop adds a Detection Finding
 * (2004); an abuse detector action (a ring reaching flag / require-kyc / degrade / suspend) is a Detection Finding;
 * key changes are Account Change (3001). Other admin records (directives, licences, config reloads…) and the
 * log's own records (segment, checkpoint) have no class here and are not exported.
 */
import { OCSF_VERSION, SEVERITY_NAMES } from './schema.ts';

export type OcsfEvent = Record<string, unknown> & { class_uid: number; activity_id: number; type_uid: number; time: number };

export interface MapOptions {
  /** Gatehouse's version, for metadata.product.version. */
  productVersion?: string;
}

type Rec = Record<string, unknown>;
const PRODUCT = { name: 'Gatehouse', vendor_name: 'Gatehouse' };
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function metadata(rec: Rec, opts: MapOptions, correlation?: string): Rec {
  const m: Rec = { version: OCSF_VERSION, product: opts.productVersion ? { ...PRODUCT, version: opts.productVersion } : PRODUCT, log_name: 'gatehouse-audit' };
  const seq = num(rec.seq);
  if (seq !== undefined) (m.sequence = seq), (m.uid = `audit-${seq}`);
  if (correlation) m.correlation_uid = correlation;
  return m;
}

function event(classUid: number, categoryUid: number, activityId: number, activityName: string, severityId: number, time: number, meta: Rec, rest: Rec): OcsfEvent {
  return {
    class_uid: classUid,
    category_uid: categoryUid,
    activity_id: activityId,
    activity_name: activityName,
    type_uid: classUid * 100 + activityId,
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId]!,
    time,
    metadata: meta,
    ...rest,
  };
}

/** The principal of a request record as an OCSF user: the account is the user, the key its credential. */
function userOf(p: Rec | undefined): Rec | undefined {
  if (!p) return undefined;
  const accountId = str(p.accountId);
  const keyId = str(p.keyId);
  const orgId = str(p.orgId);
  if (!accountId && !keyId) return undefined;
  const u: Rec = {};
  if (accountId) (u.uid = accountId), (u.account = { uid: accountId });
  if (keyId) u.credential_uid = keyId;
  if (orgId) u.org = { uid: orgId };
  return u;
}

const OPERATION: Record<string, string> = { openai: 'chat.completions.create', anthropic: 'messages.create' };
const SERVED = new Set(['ok', 'client_closed', 'moderated']);

function requestEvents(rec: Rec, opts: MapOptions): OcsfEvent[] {
  const requestId = str(rec.requestId) ?? 'unknown';
  const time = num(rec.time) ?? num(rec.requestTime) ?? 0;
  const status = num(rec.status) ?? 0;
  const code = str(rec.code);
  const outcome = str(rec.outcome) ?? 'unknown';
  const p = rec.principal as Rec | undefined;
  const user = userOf(p);
  const protocol = str(rec.protocol) ?? 'openai';
  if (status === 401) {
    // Never reached the API: the key was missing, unknown or revoked.
    return [
      event(3002, 3, 1, 'Logon', 3, time, metadata(rec, opts, requestId), {
        status_id: 2,
        status: 'Failure',
        status_code: String(status),
        ...(code ? { status_detail: code } : {}),
        user: user ?? { name: 'unknown', type_id: 0 },
        auth_protocol_id: 99,
        auth_protocol: 'API key',
        is_remote: true,
        service: { name: 'gatehouse', uid: protocol },
        message: code === 'key_revoked' ? 'API key revoked' : code === 'missing_api_key' ? 'API key missing' : 'API key not recognised',
      }),
    ];
  }
  const served = SERVED.has(outcome);
  const refused = outcome === 'refused';
  const resources: Rec[] = [{ type: 'model', name: str(rec.modelRequested) ?? 'unknown' }];
  const modelServed = str(rec.modelServed);
  if (modelServed && modelServed !== rec.modelRequested) resources.push({ type: 'model', name: modelServed, labels: ['served'] });
  const unmapped: Rec = { outcome };
  for (const k of ['inputTokens', 'outputTokens', 'costUsd', 'usageEstimated', 'stream', 'ref', 'labels', 'failedOpen', 'skipped', 'promptHash', 'responseHash']) if (rec[k] !== undefined) unmapped[k] = rec[k];
  const events: OcsfEvent[] = [
    event(6003, 6, 1, 'Create', refused ? 2 : outcome === 'internal_error' ? 3 : 1, time, metadata(rec, opts, requestId), {
      status_id: served ? 1 : 2,
      status: served ? 'Success' : 'Failure',
      status_code: String(status),
      ...(code ? { status_detail: code } : {}),
      actor: user ? { user, app_name: 'gatehouse' } : { app_name: 'gatehouse' },
      api: { operation: OPERATION[protocol] ?? protocol, service: { name: 'gatehouse' }, request: { uid: requestId }, response: { code: status, ...(code ? { error: code } : {}) } },
      cloud: { provider: 'gatehouse' },
      // The audit log does not keep the client's address; the key id stands for the calling endpoint.
      src_endpoint: { uid: str(p?.keyId) ?? 'unknown', name: `${protocol} client` },
      resources,
      ...(num(rec.latencyMs) !== undefined ? { duration: Math.max(0, Math.round(num(rec.latencyMs)!)) } : {}),
      unmapped: { gatehouse: unmapped },
    }),
  ];
  const labels = rec.labels as Record<string, number> | undefined;
  const classifier = (rec.ref as Rec | undefined)?.classifier;
  if ((refused && typeof classifier === 'string') || outcome === 'moderated') {
    const label = typeof classifier === 'string' ? classifier : (code ?? 'output');
    const score = labels && typeof labels[label] === 'number' ? labels[label] : undefined;
    const moderated = outcome === 'moderated';
    events.push(
      event(2004, 2, 1, 'Create', label === 'bio-chem' ? 4 : 3, time, metadata(rec, opts, requestId), {
        status_id: 1,
        status: 'New',
        finding_info: {
          uid: `${moderated ? 'moderation' : 'classifier'}:${requestId}`,
          title: moderated ? `Output moderation ended a response (${label})` : `Safeguards classifier refused a request (${label})`,
          types: [code ?? `classifier_${label}`],
          analytic: { name: label, type_id: 4, type: 'Learning (ML/DL)' },
          related_events: [{ uid: requestId }],
        },
        ...(score !== undefined ? { confidence_score: Math.round(Math.min(1, Math.max(0, score)) * 100) } : {}),
        resources,
        ...(user ? { actor: { user } } : {}),
        unmapped: { gatehouse: { requestId, outcome, ...(labels ? { labels } : {}) } },
      }),
    );
  }
  return events;
}

const RING_SEVERITY: Record<string, number> = { flag: 2, 'require-kyc': 3, degrade: 3, suspend: 4, none: 1 };
const KEY_ACTIVITY: Record<string, [number, string]> = { 'key.created': [1, 'Create'], 'key.revoked': [5, 'Disable'], 'key.updated': [99, 'Other'] };

function adminEvents(rec: Rec, opts: MapOptions): OcsfEvent[] {
  const action = str(rec.action) ?? '';
  const time = num(rec.time) ?? 0;
  const details = (rec.details ?? {}) as Rec;
  const actor = str(rec.actor) ?? 'unknown';
  if (action === 'abuse.action') {
    const next = str(details.next) ?? 'unknown';
    const accountId = str(details.accountId) ?? str(rec.target) ?? 'unknown';
    const ring = str(details.ringId);
    const closing = next === 'none';
    const score = num(details.score);
    return [
      event(2004, 2, closing ? 3 : ring && str(details.previous) && details.previous !== 'none' ? 2 : 1, closing ? 'Close' : ring && str(details.previous) && details.previous !== 'none' ? 'Update' : 'Create', RING_SEVERITY[next] ?? 3, time, metadata(rec, opts), {
        status_id: closing ? 4 : 1,
        status: closing ? 'Resolved' : 'New',
        finding_info: {
          uid: `abuse:${accountId}:${ring ?? 'none'}`,
          title: closing ? `Account ${accountId} is no longer in a ring` : `Distillation/fraud ring: action ${next} on account ${accountId}`,
          types: ['abuse_ring'],
          analytic: { name: 'ring-detector', type_id: 2, type: 'Behavioral' },
          ...(Array.isArray(details.reasons) ? { desc: (details.reasons as unknown[]).map(String).join('; ').slice(0, 2000) } : {}),
        },
        ...(score !== undefined && score >= 0 && score <= 1 ? { confidence_score: Math.round(score * 100) } : {}),
        actor: { user: { uid: accountId, account: { uid: accountId } }, app_name: 'gatehouse' },
        unmapped: { gatehouse: { ringId: ring ?? null, previous: details.previous ?? null, next, actor } },
      }),
    ];
  }
  const key = KEY_ACTIVITY[action];
  if (key) {
    const keyId = str(rec.target) ?? 'unknown';
    const accountId = str(details.accountId);
    const orgId = str(details.orgId);
    const user: Rec = { credential_uid: keyId, ...(accountId ? { uid: accountId, account: { uid: accountId } } : {}), ...(orgId ? { org: { uid: orgId } } : {}) };
    return [
      event(3001, 3, key[0], key[1], key[0] === 5 ? 2 : 1, time, metadata(rec, opts), {
        status_id: 1,
        status: 'Success',
        user,
        actor: { user: { name: actor }, app_name: 'gatehouse' },
        message: `API key ${keyId} ${action.slice(4)} by ${actor}`,
        unmapped: { gatehouse: { action, ...(Object.keys(details).length ? { details } : {}) } },
      }),
    ];
  }
  return [];
}

/** The OCSF events for one audit record (none for records without a class here). */
export function toOcsf(rec: Rec, opts: MapOptions = {}): OcsfEvent[] {
  if (rec.kind === 'request') return requestEvents(rec, opts);
  if (rec.kind === 'admin') return adminEvents(rec, opts);
  return [];
}
