/**
 * The baseline for the CLI: what a gateway started with this config would enforce now — its policy file and
 * country groups, the store's active directives and licences, its `classify:` section — and the principals from
 * the key store. The store is only read (SELECTs; no migration, no write); an embedded SQLite file that does not
 * exist is not created.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseClassifyConfig, type ClassifyConfig } from '../classify/config.ts';
import { configSchema as limitsSchema, type LimitsConfig } from '../limits/config.ts';
import type { Principal } from '../core/types.ts';
import { compileDirective, type CompiledDirective } from '../directives/model.ts';
import { DirectiveRepository } from '../directives/repository.ts';
import { KeyRepository } from '../identity/keys.ts';
import { CommandError } from '../cli/common.ts';
import { readCapabilityConfig } from '../policy/cli-config.ts';
import { CompiledPolicy, loadPolicyFile } from '../policy/compile.ts';
import { loadGroups } from '../population/groups.ts';
import { LicenceRepository } from '../policy/licence-repository.ts';
import { LicenceIndex, type LicenceRecord } from '../policy/licences.ts';
import { AccessSnapshot } from '../policy/snapshot.ts';
import type { Db } from '../store/db.ts';
import { openDb, redactUrl } from '../store/open.ts';
import type { Baseline } from './draft.ts';
import { principalFromKey } from '../identity/principal.ts';

export interface LoadedBaseline {
  baseline: Baseline;
  /** Principals from the key store (empty without a store). */
  principals: Principal[];
  /** The audit log path from the config (`audit.path`), for the default source. */
  auditPath: string;
  warnings: string[];
}

/** Opens the store for reading, or returns null (with a reason) when there is none to read. */
export async function openStoreReadOnly(url: string | null): Promise<{ db: Db | null; note?: string }> {
  if (url === null || url === 'none') return { db: null, note: 'no store: no directives, licences or keys' };
  if (url.startsWith('sqlite:') && url !== 'sqlite::memory:' && !existsSync(resolve(url.slice(7)))) return { db: null, note: `store ${url} does not exist: no directives, licences or keys` };
  try {
    return { db: await openDb(url) };
  } catch (err) {
    throw new CommandError(`cannot open store ${redactUrl(url)}: ${(err as Error).message}`);
  }
}

/** Rows of a table that may not exist yet (a store the gateway never migrated that far). */
async function tolerant<T>(what: string, warnings: string[], fn: () => Promise<T[]>): Promise<T[]> {
  try {
    return await fn();
  } catch (err) {
    warnings.push(`cannot read ${what} from the store (${(err as Error).message.split('\n')[0]}): none used`);
    return [];
  }
}

export async function loadBaseline(configPath: string | undefined, db: Db | null): Promise<LoadedBaseline> {
  const cap = readCapabilityConfig(configPath);
  const warnings: string[] = [];
  let doc: Record<string, unknown> = {};
  if (configPath) doc = (parseYaml(readFileSync(configPath, 'utf8')) ?? {}) as Record<string, unknown>;
  const groups = loadGroups(cap.policy.countryGroupFiles.map((f) => resolve(cap.baseDir, f)));
  const policy = cap.policy.file
    ? loadPolicyFile(resolve(cap.baseDir, cap.policy.file), { models: cap.models, groups, ...(cap.policy.default ? { defaultAction: cap.policy.default } : {}) })
    : new CompiledPolicy([], groups, cap.policy.default ?? 'allow', new Map(), '(none)', cap.models);
  let limits: LimitsConfig | null = null;
  if (doc.limits !== undefined && doc.limits !== null) {
    const r = limitsSchema.safeParse(doc.limits);
    if (!r.success) throw new CommandError(`${configPath}: limits: ${r.error.issues.map((i) => `${i.path.join('.') || '(section)'}: ${i.message}`).join('; ')}`);
    limits = r.data;
  }
  let classify: ClassifyConfig | null = null;
  const section = doc.classify as { enabled?: unknown } | undefined;
  if (section && section.enabled !== false) {
    try {
      classify = parseClassifyConfig(section);
    } catch (err) {
      throw new CommandError(`${configPath}: ${(err as Error).message}`);
    }
  }
  const directives: CompiledDirective[] = [];
  let licenceRecords: LicenceRecord[] = [];
  let principals: Principal[] = [];
  if (db) {
    const records = await tolerant('directives', warnings, () => new DirectiveRepository(db).list({ status: 'active' }));
    for (const d of records) {
      try {
        directives.push(compileDirective(d, { groups: policy.groups, models: [] }));
      } catch (err) {
        warnings.push(`stored directive ${d.id} no longer compiles and is not enforced: ${(err as Error).message}`);
      }
    }
    // Revoked licences too: a licence covers until the moment of its revocation (covers() checks revokedAt against
    // the decision time), so requests recorded before it was revoked are decided as they were.
    licenceRecords = await tolerant('licences', warnings, () => new LicenceRepository(db).list());
    principals = (await tolerant('keys', warnings, () => new KeyRepository(db).list())).map(principalFromKey);
  }
  const licences = LicenceIndex.build(licenceRecords, policy.groups, (id, why) => warnings.push(`licence ${id} skipped: ${why}`));
  const access = new AccessSnapshot(policy, directives, licences, cap.models);
  const auditSection = doc.audit as { path?: unknown } | undefined;
  const auditPath = typeof auditSection?.path === 'string' ? auditSection.path : 'data/audit/audit.jsonl';
  return {
    baseline: { access, classify, limits, models: cap.models, groups, licences: licenceRecords, ...(cap.policy.default ? { policyDefault: cap.policy.default } : {}) },
    principals,
    auditPath,
    warnings,
  };
}
