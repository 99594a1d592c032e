/**
 * The attributes a key carries into its Principal, and their validation. One zod schema serves the admin API,
 * the CLI and the repository, so every entry point rejects the same inputs with the same precise messages.
 */
import { z } from 'zod';
import { KYC_LEVELS, type KycLevel } from '../core/types.ts';
import { countryCodeProblem } from '../population/countries.ts';
import { formatPath, issueMessage, JSON_NOUNS, plainWording, type IssueWording } from '../core/validation.ts';

/** Everything about a key except its secret and lifecycle timestamps. */
export interface KeyAttributes {
  accountId: string;
  orgId: string | null;
  nationalities: string[];
  residence: string | null;
  kyc: KycLevel;
  programmes: string[];
  tier: string;
  staff: boolean;
  label: string | null;
  accountCreatedAt: number | null;
  paymentFingerprint: string | null;
}

export const DEFAULT_TIER = 'general';

/** Country codes are accepted in any case and stored upper case. */
const countryCode = z.string().transform((value, ctx) => {
  const upper = value.trim().toUpperCase();
  const problem = countryCodeProblem(upper);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem.replace(`'${upper}'`, `'${value}'`) });
    return z.NEVER;
  }
  return upper;
});

const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;

/** Opaque identifiers from the operator's own systems: non-empty, printable, bounded. */
const identifier = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${what} must not be empty`, abort: true })
    .max(200, `${what} is longer than 200 characters`)
    .regex(NO_CONTROL_CHARS, `${what} must not contain control characters`);

/** Programme and tier names are machine-readable slugs referenced by policy rules. */
const SLUG = /^[a-z0-9][a-z0-9._:-]*$/;
const slug = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${what} must not be empty`, abort: true })
    .max(100, `${what} is longer than 100 characters`)
    .regex(SLUG, `${what} must be lower-case letters, digits and . _ : - (e.g. 'critical-infrastructure-defenders')`);

const kyc = z.enum(KYC_LEVELS as [KycLevel, ...KycLevel[]], {
  error: (issue) => `expected one of ${KYC_LEVELS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(issue.input)}`,
});

function noDuplicates(what: string) {
  return (list: string[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (seen.has(item)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate ${what} '${item}'` });
      seen.add(item);
    });
  };
}

const nationalities = z.array(countryCode).max(10, 'at most 10 nationalities').superRefine(noDuplicates('nationality'));
const programmes = z.array(slug('programme')).max(50, 'at most 50 programmes').superRefine(noDuplicates('programme'));
const epochMs = z.number().int('expected an integer (epoch milliseconds)').min(0).max(8.64e15);

const fields = {
  accountId: identifier('accountId'),
  orgId: identifier('orgId').nullable(),
  nationalities,
  residence: countryCode.nullable(),
  kyc,
  programmes,
  tier: slug('tier'),
  staff: z.boolean(),
  label: z.string().max(200, 'label is longer than 200 characters').regex(NO_CONTROL_CHARS, 'label must not contain control characters').nullable(),
  accountCreatedAt: epochMs.nullable(),
  paymentFingerprint: identifier('paymentFingerprint').nullable(),
};

/** Body of a key creation: only accountId is required. Unknown fields are errors (a typo must not pass silently). */
export const createKeySchema = z.strictObject({
  accountId: fields.accountId,
  orgId: fields.orgId.default(null),
  nationalities: fields.nationalities.default([]),
  residence: fields.residence.default(null),
  kyc: fields.kyc.default('none'),
  programmes: fields.programmes.default([]),
  tier: fields.tier.default(DEFAULT_TIER),
  staff: fields.staff.default(false),
  label: fields.label.default(null),
  accountCreatedAt: fields.accountCreatedAt.default(null),
  paymentFingerprint: fields.paymentFingerprint.default(null),
});

/** Body of an attribute update: any subset of the fields; null clears a nullable one. */
export const updateKeySchema = z
  .strictObject({
    accountId: fields.accountId.optional(),
    orgId: fields.orgId.optional(),
    nationalities: fields.nationalities.optional(),
    residence: fields.residence.optional(),
    kyc: fields.kyc.optional(),
    programmes: fields.programmes.optional(),
    tier: fields.tier.optional(),
    staff: fields.staff.optional(),
    label: fields.label.optional(),
    accountCreatedAt: fields.accountCreatedAt.optional(),
    paymentFingerprint: fields.paymentFingerprint.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'expected at least one attribute to change' });

export type KeyAttributesPatch = Partial<KeyAttributes>;

export interface ValidationIssue {
  /** JSON path of the offending value, e.g. `nationalities[1]`, or `(root)`. */
  path: string;
  message: string;
}

export { formatPath };

/** Key attributes arrive as JSON (admin API, CLI flags): JSON's nouns, and all unknown fields in one issue. */
const KEY_WORDING: IssueWording = {
  ...plainWording(JSON_NOUNS),
  unknownKeys: ({ keys }) => `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`,
};

export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issueMessage(issue, issue.input, KEY_WORDING) }));
}

export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

export class KeyValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(describeIssues(issues));
    this.name = 'KeyValidationError';
  }
}

export function parseCreate(input: unknown): KeyAttributes {
  const r = createKeySchema.safeParse(input, { reportInput: true });
  if (!r.success) throw new KeyValidationError(toIssues(r.error));
  return r.data;
}

export function parseUpdate(input: unknown): KeyAttributesPatch {
  const r = updateKeySchema.safeParse(input, { reportInput: true });
  if (!r.success) throw new KeyValidationError(toIssues(r.error));
  return r.data;
}
