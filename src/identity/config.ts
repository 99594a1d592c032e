/**
 * YAML section `identity:`. Keys normally live in the store (`gatehouse keys create`); `identity.keys` adds
 * fixed keys from config — for a demo, or a break-glass key whose hash is provisioned with the deployment.
 *
 *   identity:
 *     keys:
 *       - secretEnv: GATEHOUSE_DEMO_KEY        # or secretHash: <sha256 hex of the secret>, or secret: (demo only)
 *         accountId: demo
 *         nationalities: [US]
 *         kyc: basic
 */
import { z } from 'zod';
import { createKeySchema } from './attributes.ts';

const configKeySchema = createKeySchema
  .extend({
    /** Stable id shown in logs and events; default `cfg_` + the first 12 hex characters of the hash. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'id must be 1-64 letters, digits, _ or -')
      .optional(),
    /** SHA-256 (hex) of the secret: the config then holds nothing secret. */
    secretHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'secretHash must be 64 lower-case hex characters (SHA-256 of the secret)')
      .optional(),
    /** Name of an environment variable holding the secret. */
    secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'secretEnv must be an environment variable name').optional(),
    /** The secret itself, in the file. For demos only: anyone who can read the config can use the key. */
    secret: z.string().min(16, 'secret must be at least 16 characters').optional(),
  })
  .superRefine((k, ctx) => {
    const given = ['secretHash', 'secretEnv', 'secret'].filter((f) => k[f as keyof typeof k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `expected exactly one of secretHash, secretEnv or secret; got ${given.length ? given.join(', ') : 'none'}` });
    }
  });

export const configSchema = z
  .object({
    keys: z.array(configKeySchema).default([]),
  })
  .strict()
  .prefault({});

export type IdentityConfig = z.infer<typeof configSchema>;
export type ConfigKey = z.infer<typeof configKeySchema>;
