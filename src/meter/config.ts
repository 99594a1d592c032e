import { z } from 'zod';
import { TOKENIZERS } from './tokenizer.ts';

/** YAML section `meter:`. */
export const configSchema = z
  .object({
    /** Record usage per request (off only for measuring the gateway without it). */
    enabled: z.boolean().default(true),
    /** Write buffered usage to the store this often. */
    flushIntervalMs: z.number().int().min(10).default(1000),
    /** Flush early when this many distinct (day, key, account, org, model) rows are pending. */
    maxPendingRows: z.number().int().min(1).default(5000),
    /** Counts tokens when an upstream reports no usage: a BPE vocabulary, or `chars4` (ceil(chars / 4), no memory). */
    tokenizer: z.enum(TOKENIZERS).default('o200k_base'),
  })
  .strict()
  .prefault({});

export type MeterConfig = z.infer<typeof configSchema>;
