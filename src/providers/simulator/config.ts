/** The `providers:` entry of `type: simulator` (demos and tests): the behaviour of the in-process simulator. */
import { z } from 'zod';

export const simulatorConfigSchema = z
  .object({
    type: z.literal('simulator'),
    latencyMs: z.number().int().min(0).default(0),
    tokensPerSecond: z.number().min(0).default(0),
    replyTokens: z.number().int().min(1).max(100_000).default(24),
    replyText: z.string().min(1).optional(),
    failStatus: z.number().int().min(400).max(599).optional(),
    breakAfterChunks: z.number().int().min(0).optional(),
    resetConnection: z.boolean().optional(),
  })
  .strict();
export type SimulatorProviderConfig = z.infer<typeof simulatorConfigSchema>;
