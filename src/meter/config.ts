import { z } from 'zod';

/** YAML section `meter:`. */
export const configSchema = z
  .object({
    /** Record usage per request (off only for measuring the gateway without it). */
    enabled: z.boolean().default(true),
    /** Write buffered usage to the store this often. */
    flushIntervalMs: z.number().int().min(10).default(1000),
    /** Flush early when this many distinct (day, key, account, org, model) rows are pending. */
    maxPendingRows: z.number().int().min(1).default(5000),
  })
  .strict()
  .prefault({});

export type MeterConfig = z.infer<typeof configSchema>;
