import { z } from 'zod';

/**
 * `policy:` section.
 *   file: path of the policy YAML (relative to the config file's directory); null = no rules (default applies)
 *   default: allow | deny — overrides the policy file's `default:` when set
 *   countryGroupFiles: extra country-group YAML files loaded after the shipped groups, in order
 */
export const configSchema = z
  .strictObject({
    file: z.string().min(1).nullable().default(null),
    default: z.enum(['allow', 'deny']).optional(),
    countryGroupFiles: z.array(z.string().min(1)).default([]),
  })
  .default({ file: null, countryGroupFiles: [] });
export type PolicyConfig = z.output<typeof configSchema>;
