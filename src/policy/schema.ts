/**
 * The shape of the policy language (YAML), validated with zod; the population predicates inside rules come from
 * population/schema.ts. Shape only: whether a country code, group or
 * model exists, whether routes form a cycle and whether a predicate can match anybody is checked by
 * compile.ts, which reports those with the same file:line precision.
 */
import { z } from 'zod';
import { countryGroupSchema, groupName, kycLevel, normalisePopulation, populationSchema } from '../population/schema.ts';

// The population language lives in population/; re-exported here because a policy file embeds it.
export { countryGroupFileSchema, countryGroupSchema, NATIONALITY_OPS, normalisePopulation, populationSchema } from '../population/schema.ts';
export type { CountryGroupInput, NationalityOp, Population } from '../population/schema.ts';

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

export const policyFileSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }).default(1),
  /** What happens when no rule matches. */
  default: z.enum(['allow', 'deny']).default('allow'),
  countryGroups: z.record(groupName, countryGroupSchema).default({}),
  rules: z.array(ruleSchema).default([]),
});
export type PolicyFile = z.infer<typeof policyFileSchema>;
