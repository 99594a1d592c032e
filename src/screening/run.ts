/**
 * One screening run against the store: load the lists (noting each one's version, a hash of its files), skip when
 * asked to run only after a list update and none changed, screen every subject, record the matches (new ones
 * `pending`), open an incident for each new hit and link it. The gateway's gate picks the blocks up through the
 * store's change feed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IncidentRepository } from '../incidents/repository.ts';
import type { Db } from '../store/db.ts';
import { loadList, type ScreeningEntry } from './lists.ts';
import { ScreeningIndex, type Match, type Subject } from './matcher.ts';
import { ScreeningRepository, type ScreeningResult } from './repository.ts';

export interface RunInput {
  lists: string[];
  subjects: Subject[];
  hit?: number;
  review?: number;
  /** Only run when a list's version differs from the last run's. */
  ifChanged?: boolean;
  auditActor?: string;
}

export interface RunOutcome {
  skipped: boolean;
  /** Lists whose version changed since the last run (or are new). */
  changed: string[];
  screened: number;
  matches: Match[];
  newHits: ScreeningResult[];
  incidents: string[];
}

/** A list's version: the SHA-256 of its file (and, for OFAC SDN, of alt.csv and add.csv beside it). */
export function listVersion(spec: string): string {
  const path = spec.replace(/^(ofac-sdn|csl-json|csl-csv):/, '');
  const h = createHash('sha256').update(readFileSync(path));
  if (/sdn[^/]*\.csv$/i.test(path)) {
    for (const n of ['alt', 'add']) {
      const p = join(dirname(path), basename(path).replace(/sdn/i, n));
      if (p !== path && existsSync(p)) h.update(readFileSync(p));
    }
  }
  return h.digest('hex').slice(0, 16);
}

export async function runScreening(db: Db, input: RunInput): Promise<RunOutcome> {
  const repo = new ScreeningRepository(db, input.auditActor ? { auditActor: input.auditActor } : {});
  const entries: ScreeningEntry[] = [];
  const versions = new Map<string, { version: string; entries: number }>();
  for (const spec of input.lists) {
    const list = loadList(spec);
    entries.push(...list);
    const name = list[0]?.list ?? basename(spec);
    const prev = versions.get(name);
    const v = listVersion(spec);
    versions.set(name, { version: prev ? `${prev.version}+${v}` : v, entries: (prev?.entries ?? 0) + list.length });
  }
  const before = await repo.listVersions();
  const changed = [...versions].filter(([name, v]) => before.get(name) !== v.version).map(([name]) => name);
  if (input.ifChanged && changed.length === 0) return { skipped: true, changed, screened: 0, matches: [], newHits: [], incidents: [] };
  const index = new ScreeningIndex(entries, { ...(input.hit !== undefined ? { hit: input.hit } : {}), ...(input.review !== undefined ? { review: input.review } : {}) });
  const matches: Match[] = [];
  for (const s of input.subjects) matches.push(...index.screen(s));
  const byId = new Map(input.subjects.map((s) => [s.id, s]));
  const newHits = await repo.record(byId, matches, versions);
  const incidents: string[] = [];
  const incidentsRepo = new IncidentRepository(db, input.auditActor ? { auditActor: input.auditActor } : {});
  for (const h of newHits) {
    const { incident } = await incidentsRepo.report({
      dedupeKey: `screening:${h.subjectKind}:${h.subjectId}`,
      trigger: 'screening-hit',
      title: `Denied-party screening hit: ${h.subjectKind} ${h.subjectId} ('${h.subjectName}') matches ${h.list}:${h.entryId} '${h.entryName}' (score ${h.score})`,
      severity: 'high',
      models: [],
      principals: [`${h.subjectKind}:${h.subjectId}`],
      requestIds: [],
      by: 'trigger:screening',
      details: { result: h.id, list: h.list, entryId: h.entryId, score: h.score },
    });
    await repo.linkIncident(h.id, incident.id);
    incidents.push(incident.id);
  }
  return { skipped: false, changed, screened: input.subjects.length, matches, newHits, incidents };
}
