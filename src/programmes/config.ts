/**
 * The `programmes:` config section: which trusted-access programmes exist (applications for other names are
 * refused) and the KYC provider webhook. Absent, no programme can be applied for and the webhook answers 404.
 */
import { z } from 'zod';

const SLUG = /^[a-z0-9][a-z0-9._:-]*$/;

export const configSchema = z
  .strictObject({
    /** Programme names policy rules may require (`require: {programme: NAME}`). */
    names: z.array(z.string().regex(SLUG, "lower-case letters, digits and . _ : - (e.g. 'critical-infrastructure-defenders')").max(100)).default([]),
    /** A granted programme ending within this many hours is announced (`programme.expiring` notification), once. */
    expiryWarningHours: z.number().min(0).max(24 * 366).default(72),
    kycWebhook: z
      .strictObject({
        /** Environment variable holding the HMAC-SHA256 secret shared with the KYC provider. */
        secretEnv: z.string().min(1),
        /** Events signed more than this many seconds before or after arrival are refused (replay window). */
        toleranceSeconds: z.number().int().min(1).max(3600).default(300),
      })
      .optional(),
  })
  .default({ names: [], expiryWarningHours: 72 });

export type ProgrammesConfig = z.infer<typeof configSchema>;
