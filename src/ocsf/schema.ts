/**
 * Minimal schemas of the OCSF 1.3.0 classes Gatehouse emits, for validating its own output (tests, and
 * `gatehouse ocsf export --validate`). Each checks what the OCSF schema requires of the class — the required
 * attributes, their types, and the enumerated values of the ids (class_uid, category_uid, activity_id, type_uid,
 * severity_id, status_id) — plus the required members of the objects used (metadata.product, api.operation,
 * finding_info.uid/title, user). They are not the whole OCSF schema: optional attributes are checked only for
 * type where Gatehouse sets them, and unknown attributes are not rejected (OCSF allows `unmapped`).
 * Values from the OCSF 1.3.0 dictionary and class definitions (schema.ocsf.io/1.3.0).
 */
import { z } from 'zod';

export const OCSF_VERSION = '1.3.0';

/** Base event severity_id: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other. */
export const SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99] as const;
export const SEVERITY_NAMES: Record<number, string> = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };
/** Base event status_id: 0 Unknown, 1 Success, 2 Failure, 99 Other. */
export const EVENT_STATUS_IDS = [0, 1, 2, 99] as const;
/** Detection Finding status_id: 0 Unknown, 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 99 Other. */
export const FINDING_STATUS_IDS = [0, 1, 2, 3, 4, 99] as const;

export const CLASSES = {
  /** API Activity: Application Activity category. Activities 0 Unknown, 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other. */
  apiActivity: { class_uid: 6003, category_uid: 6, activities: [0, 1, 2, 3, 4, 99] },
  /** Authentication: Identity & Access Management. 0 Unknown, 1 Logon, 2 Logoff, 3 Authentication Ticket, 4 Service Ticket Validation, 5 Service Ticket Request, 6 Preauth, 99 Other. */
  authentication: { class_uid: 3002, category_uid: 3, activities: [0, 1, 2, 3, 4, 5, 6, 99] },
  /** Detection Finding: Findings. 0 Unknown, 1 Create, 2 Update, 3 Close, 99 Other. */
  detectionFinding: { class_uid: 2004, category_uid: 2, activities: [0, 1, 2, 3, 99] },
  /** Account Change: Identity & Access Management. 0 Unknown, 1 Create, 2 Enable, 3 Password Change, 4 Password Reset, 5 Disable, 6 Delete, 7 Attach Policy, 8 Detach Policy, 9 Lock, 10 MFA Factor Enable, 11 MFA Factor Disable, 99 Other. */
  accountChange: { class_uid: 3001, category_uid: 3, activities: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99] },
} as const;

const int = z.number().int();
const timestamp = int.nonnegative();
const oneOf = (values: readonly number[]) => int.refine((v) => values.includes(v), { message: `expected one of ${values.join(', ')}` });

const product = z.looseObject({ name: z.string().min(1).optional(), vendor_name: z.string().min(1), version: z.string().optional() });
const metadata = z.looseObject({ version: z.literal(OCSF_VERSION), product, uid: z.string().optional(), correlation_uid: z.string().optional(), log_name: z.string().optional(), sequence: int.optional() });
const account = z.looseObject({ uid: z.string().optional(), name: z.string().optional(), type_id: int.optional() });
const organization = z.looseObject({ uid: z.string().optional(), name: z.string().optional() });
/** OCSF User: at least one of uid, name, credential_uid (the constraint that makes a user identifiable). */
const user = z
  .looseObject({ uid: z.string().optional(), name: z.string().optional(), credential_uid: z.string().optional(), type_id: int.optional(), account: account.optional(), org: organization.optional() })
  .refine((u) => u.uid !== undefined || u.name !== undefined || u.credential_uid !== undefined, { message: 'a user needs at least one of uid, name, credential_uid' });
const endpoint = z
  .looseObject({ uid: z.string().optional(), name: z.string().optional(), ip: z.string().optional(), hostname: z.string().optional() })
  .refine((e) => e.uid !== undefined || e.name !== undefined || e.ip !== undefined || e.hostname !== undefined, { message: 'an endpoint needs at least one of ip, hostname, name, uid' });
const resource = z.looseObject({ name: z.string().optional(), type: z.string().optional(), uid: z.string().optional() });

function base(cls: { class_uid: number; category_uid: number; activities: readonly number[] }, statusIds: readonly number[]) {
  return {
    class_uid: z.literal(cls.class_uid),
    category_uid: z.literal(cls.category_uid),
    activity_id: oneOf(cls.activities),
    activity_name: z.string().optional(),
    type_uid: int,
    severity_id: oneOf(SEVERITY_IDS),
    severity: z.string().optional(),
    status_id: oneOf(statusIds).optional(),
    status: z.string().optional(),
    status_code: z.string().optional(),
    status_detail: z.string().optional(),
    time: timestamp,
    metadata,
    message: z.string().optional(),
    duration: int.nonnegative().optional(),
    unmapped: z.record(z.string(), z.unknown()).optional(),
  };
}

/** type_uid = class_uid × 100 + activity_id, as OCSF defines it. */
function typeUid<T extends { class_uid: number; activity_id: number; type_uid: number }>(s: z.ZodType<T>) {
  return s.refine((e) => e.type_uid === e.class_uid * 100 + e.activity_id, { message: 'type_uid must be class_uid * 100 + activity_id', path: ['type_uid'] });
}

export const apiActivitySchema = typeUid(
  z.looseObject({
    ...base(CLASSES.apiActivity, EVENT_STATUS_IDS),
    actor: z.looseObject({ user: user.optional(), app_name: z.string().optional() }).refine((a) => a.user !== undefined || a.app_name !== undefined, { message: 'an actor needs a user or an app_name' }),
    api: z.looseObject({ operation: z.string().min(1), service: z.looseObject({ name: z.string() }).optional(), request: z.looseObject({ uid: z.string() }).optional(), response: z.looseObject({ code: int.optional(), error: z.string().optional() }).optional() }),
    cloud: z.looseObject({ provider: z.string().min(1) }),
    src_endpoint: endpoint,
    resources: z.array(resource).optional(),
  }),
);

export const authenticationSchema = typeUid(
  z.looseObject({
    ...base(CLASSES.authentication, EVENT_STATUS_IDS),
    user,
    auth_protocol_id: int.optional(),
    auth_protocol: z.string().optional(),
    is_remote: z.boolean().optional(),
    service: z.looseObject({ name: z.string() }).optional(),
    src_endpoint: endpoint.optional(),
  }),
);

export const detectionFindingSchema = typeUid(
  z.looseObject({
    ...base(CLASSES.detectionFinding, FINDING_STATUS_IDS),
    finding_info: z.looseObject({
      uid: z.string().min(1),
      title: z.string().min(1),
      desc: z.string().optional(),
      types: z.array(z.string()).optional(),
      analytic: z.looseObject({ name: z.string().optional(), type_id: oneOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99]), type: z.string().optional() }).optional(),
      related_events: z.array(z.looseObject({ uid: z.string() })).optional(),
    }),
    confidence_score: int.min(0).max(100).optional(),
    resources: z.array(resource).optional(),
  }),
);

export const accountChangeSchema = typeUid(
  z.looseObject({
    ...base(CLASSES.accountChange, EVENT_STATUS_IDS),
    user,
    actor: z.looseObject({ user: user.optional(), app_name: z.string().optional() }).optional(),
  }),
);

const BY_CLASS = new Map<number, z.ZodType>([
  [6003, apiActivitySchema],
  [3002, authenticationSchema],
  [2004, detectionFindingSchema],
  [3001, accountChangeSchema],
]);

/** Problems of one event against the schema of its class (empty: valid). */
export function validateOcsf(event: unknown): string[] {
  const cls = (event as { class_uid?: unknown } | null)?.class_uid;
  const schema = typeof cls === 'number' ? BY_CLASS.get(cls) : undefined;
  if (!schema) return [`class_uid ${JSON.stringify(cls)} is not one of the classes Gatehouse emits (6003, 3002, 2004, 3001)`];
  const r = schema.safeParse(event);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
}
