/**
 * The shape of the policy language (YAML), validated with zod. Shape only: whether a country code, group or
 * model exists, whether routes form a cycle and whether a predicate can match anybody is checked by
 * compile.ts, which reports those with the same file:line precision.
 */
import { z } from 'zod';
import { KYC_LEVELS, type KycLevel } from '../core/types.ts';

/** A country code (`US`) or a group reference (`group:ear-d1`). */
const countryRef = z.string().min(1, 'expected a country code or group:NAME');
const countryList = z.array(countryRef);
const names = z.array(z.string().min(1, 'must not be empty'));

function exactlyOne<T extends Record<string, unknown>>(what: string, ops: string[]) {
  return (v: T, ctx: z.RefinementCtx) => {
    const present = ops.filter((op) => v[op] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `${what} takes exactly one of ${ops.join(', ')}${present.length ? ` (got ${present.join(' and ')})` : ''}` });
    }
  };
}

export const NATIONALITY_OPS = ['anyOf', 'noneOf', 'allOf', 'anyOutside'] as const;
export type NationalityOp = (typeof NATIONALITY_OPS)[number];

const nationality = z
  .strictObject({ anyOf: countryList.optional(), noneOf: countryList.optional(), allOf: countryList.optional(), anyOutside: countryList.optional() })
  .superRefine(exactlyOne('nationality', [...NATIONALITY_OPS]));
const inOrNotIn = (list: z.ZodType<string[]>, what: string) =>
  z.strictObject({ in: list.optional(), notIn: list.optional() }).superRefine(exactlyOne(what, ['in', 'notIn']));
const kycLevel = z.enum(KYC_LEVELS as [KycLevel, ...KycLevel[]], {
  error: (i) => `expected one of ${KYC_LEVELS.join(', ')}, got ${JSON.stringify(i.input)}`,
});

/** Who a rule or directive applies to. Every predicate present must hold (AND); absent ones match everyone. */
export const populationSchema = z.strictObject({
  nationality: nationality.optional(),
  residence: inOrNotIn(countryList, 'residence').optional(),
  kyc: z.strictObject({ atLeast: kycLevel }).optional(),
  org: inOrNotIn(names, 'org').optional(),
  account: inOrNotIn(names, 'account').optional(),
  programme: z
    .strictObject({ anyOf: names.optional(), noneOf: names.optional() })
    .superRefine(exactlyOne('programme', ['anyOf', 'noneOf']))
    .optional(),
  staff: z.boolean().optional(),
  tier: inOrNotIn(names, 'tier').optional(),
  /** Rules only: whether the principal holds a valid licence covering the model. */
  licensed: z.boolean().optional(),
});
export type Population = z.infer<typeof populationSchema>;

/** `nationalities:` is accepted as a synonym of `nationality:` (both read naturally). */
export function normalisePopulation(input: unknown): unknown {
  if (input && typeof input === 'object' && !Array.isArray(input) && 'nationalities' in input && !('nationality' in input)) {
    const { nationalities, ...rest } = input as Record<string, unknown>;
    return { nationality: nationalities, ...rest };
  }
  return input;
}

const ruleId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'a rule id (letters, digits, . _ : -, at most 100)');

export const requirementSchema = z
  .strictObject({ licence: z.literal(true).optional(), kyc: kycLevel.optional(), programme: z.string().min(1).optional() })
  .refine((r) => r.licence !== undefined || r.kyc !== undefined || r.programme !== undefined, 'require needs at least one of licence, kyc, programme');

export const ruleSchema = z
  .strictObject({
    id: ruleId,
    description: z.string().optional(),
    /** Model names or globs (`*` matches any run of characters). */
    models: z.array(z.string().min(1)).min(1, 'a rule must name at least one model (use "*" for all)'),
    when: z.preprocess(normalisePopulation, populationSchema).optional(),
    action: z.enum(['allow', 'deny', 'route', 'require'], { error: (i) => `expected allow, deny, route or require, got ${JSON.stringify(i.input)}` }),
    code: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a snake_case reason code').optional(),
    message: z.string().max(500).optional(),
    to: z.string().min(1).optional(),
    require: requirementSchema.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.action === 'route' && r.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'a route rule needs `to: MODEL`' });
    if (r.action !== 'route' && r.to !== undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: '`to` is only valid with action: route' });
    if (r.action === 'require' && r.require === undefined) ctx.addIssue({ code: 'custom', path: ['require'], message: 'a require rule needs `require: {licence|kyc|programme}`' });
    if (r.action !== 'require' && r.require !== undefined) ctx.addIssue({ code: 'custom', path: ['require'], message: '`require` is only valid with action: require' });
  });
export type RuleInput = z.infer<typeof ruleSchema>;

export const countryGroupSchema = z.strictObject({
  title: z.string().optional(),
  version: z.number().int().min(1),
  source: z.string().min(1, 'a group must cite its source'),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
  countries: countryList,
});
export type CountryGroupInput = z.infer<typeof countryGroupSchema>;

const groupName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a group name (lower-case letters, digits, . _ -)');
export const countryGroupFileSchema = z.strictObject({ groups: z.record(groupName, countryGroupSchema) });

export const policyFileSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }).default(1),
  /** What happens when no rule matches. */
  default: z.enum(['allow', 'deny']).default('allow'),
  countryGroups: z.record(groupName, countryGroupSchema).default({}),
  rules: z.array(ruleSchema).default([]),
});
export type PolicyFile = z.infer<typeof policyFileSchema>;
