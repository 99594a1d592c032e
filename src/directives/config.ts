import { z } from 'zod';

/**
 * `directives:` section.
 *   failClosedWhenStale: refuse (503 directives_stale) requests for directive-governed models while the store
 *     has been unreachable for longer than staleAfterMs (default true)
 *   staleAfterMs: how long without a successful store poll before the view counts as stale (default 5000)
 *   pollIntervalMs: revision poll period; notifications make it immediate (default 250)
 *   governedModels: model names/globs always treated as directive-governed (in addition to any model named by
 *     a directive that is not lifted), so they fail closed even if the replica never saw a directive for them
 */
export const configSchema = z
  .strictObject({
    failClosedWhenStale: z.boolean().default(true),
    staleAfterMs: z.number().int().min(100).max(86_400_000).default(5000),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(250),
    governedModels: z.array(z.string().min(1)).default([]),
  })
  .default({ failClosedWhenStale: true, staleAfterMs: 5000, pollIntervalMs: 250, governedModels: [] });
export type DirectivesConfig = z.output<typeof configSchema>;
