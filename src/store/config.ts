import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** YAML section `store:`. DATABASE_URL overrides `url` (see resolveStoreUrl). */
export const configSchema = z
  .object({
    /** sqlite:PATH, sqlite::memory:, or postgres://… */
    url: z.string().min(1).default('sqlite:data/gatehouse.db'),
    /** How often each replica polls gh_revisions for changes made elsewhere (LISTEN/NOTIFY and Redis are faster paths). */
    pollIntervalMs: z.number().int().min(10).max(60_000).default(250),
  })
  .strict()
  .prefault({});

export type StoreConfig = z.infer<typeof configSchema>;

/** `sqlite:relative/path` → `sqlite:<baseDir>/relative/path` (paths in a config file are relative to it); other URLs unchanged. */
export function resolveStoreUrlPath(url: string, baseDir: string): string {
  if (!url.startsWith('sqlite:')) return url;
  const path = url.slice('sqlite:'.length);
  if (path === '' || path === ':memory:' || isAbsolute(path)) return url;
  return `sqlite:${resolve(baseDir, path)}`;
}
