/**
 * The population language's shape (YAML and JSON), validated with zod: who a policy rule or a directive applies
 * to, and country-group files. Shape only: whether a country code, group or model exists and whether a predicate
 * can match anybody is checked when compiling (`predicates.ts`, `groups.ts`).
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
export const kycLevel = z.enum(KYC_LEVELS as [KycLevel, ...KycLevel[]], {
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

export const countryGroupSchema = z.strictObject({
  title: z.string().optional(),
  version: z.number().int().min(1),
  source: z.string().min(1, 'a group must cite its source'),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
  countries: countryList,
});
export type CountryGroupInput = z.infer<typeof countryGroupSchema>;

export const groupName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a group name (lower-case letters, digits, . _ -)');
export const countryGroupFileSchema = z.strictObject({ groups: z.record(groupName, countryGroupSchema) });
