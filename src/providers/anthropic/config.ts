/** The `providers:` entry of `type: anthropic` (the Anthropic Messages API). */
import { z } from 'zod';
import { httpConfigFields } from '../http-provider.ts';

export const anthropicConfigSchema = z
  .object({
    type: z.literal('anthropic'),
    ...httpConfigFields,
    version: z.string().default('2023-06-01'),
    defaultMaxTokens: z.number().int().min(1).default(4096),
  })
  .strict();
export type AnthropicProviderConfig = z.infer<typeof anthropicConfigSchema>;
