/**
 * `gatehouse screening check|explain` — denied-party screening of accounts and organisations against sanctions and
 * denied-party lists in their publishers' formats. Exit: 0 no hit, 3 at least one hit (review-only matches exit 0),
 * 1 failure, 2 bad flags or a malformed list or subjects file (file:line).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { cliActor } from '../core/admin-actions.ts';
import { CommandError, defaultIo, type Io, parseFlags, runSubcommand, UsageError, withStore } from '../cli/common.ts';
import { ScreeningConflictError, ScreeningRepository, type ReviewStatus } from './repository.ts';
import { runScreening } from './run.ts';
import { ListFormatError, loadList, countryCode, type ScreeningEntry } from './lists.ts';
import { ScreeningIndex, type Match, type Subject } from './matcher.ts';

export const USAGE = `usage:
  gatehouse screening check   --list [FORMAT:]FILE … --subjects FILE.jsonl [--hit 0.92] [--review 0.85] [--json]
  gatehouse screening explain --list [FORMAT:]FILE … --name NAME [--country CC] [--type individual|entity] [--json]
  gatehouse screening run     --list [FORMAT:]FILE … --subjects FILE.jsonl [--if-changed] [--hit] [--review] [--store URL | --config FILE]
                              (records matches in the store: hits block governed models until cleared, open an incident, queue a review)
  gatehouse screening results [--status pending|confirmed|cleared] [--json] [--store URL | --config FILE]
  gatehouse screening review  ID --decision confirm|clear --by WHO --why TEXT [--version N] [--store URL | --config FILE]

lists (formats guessed from the name, or given): ofac-sdn:sdn.csv (alt.csv and add.csv beside it are read too),
csl-json:consolidated.json, csl-csv:consolidated.csv
subjects: one JSON object per line: {"id","kind":"account"|"org","name","aliases":[…],"country":"CC","type":"individual"|"entity"}
a match at or above --hit is a hit (exit 3), at or above --review is listed for review
`;

const subjectSchema = z.strictObject({
  id: z.string().min(1).max(200),
  kind: z.enum(['account', 'org']).default('account'),
  type: z.enum(['individual', 'entity']).optional(),
  name: z.string().min(1).max(500),
  aliases: z.array(z.string().min(1).max(500)).max(100).optional(),
  country: z.string().optional(),
});

export function readSubjects(path: string): Subject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ListFormatError(path, 0, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out: Subject[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new ListFormatError(path, i + 1, `not JSON: ${(err as Error).message}`);
    }
    const r = subjectSchema.safeParse(v);
    if (!r.success) throw new ListFormatError(path, i + 1, r.error.issues.map((is) => `${is.path.join('.') || '(subject)'}: ${is.message}`).join('; '));
    const country = r.data.country === undefined ? null : countryCode(r.data.country);
    if (r.data.country !== undefined && country === null) throw new ListFormatError(path, i + 1, `country: '${r.data.country}' is not a country code or name`);
    out.push({ id: r.data.id, kind: r.data.kind, name: r.data.name, country, ...(r.data.type ? { type: r.data.type } : {}), ...(r.data.aliases ? { aliases: r.data.aliases } : {}) });
  }
  return out;
}

export function describeMatch(m: Match): string {
  const e = m.explanation;
  const alias = m.matchedName !== m.entry.name ? ` (alias '${m.matchedName}')` : '';
  const pairs = e.pairings.map((p) => `${p.subject}~${p.entry} ${p.how}${p.how === 'exact' ? '' : ` ${p.score}`}`).join(', ');
  return `${m.decision.toUpperCase()} ${m.entry.list}:${m.entry.id} '${m.entry.name}'${alias} [${m.entry.programs.join(', ') || '-'}] score ${m.score}: ${pairs}; coverage ${e.coverage}; country ${e.country}${e.type !== 'unknown' ? `; type ${e.type}` : ''}`;
}

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('screening', argv, USAGE, io, async (sub, rest) => {
    if (!['check', 'explain', 'run', 'results', 'review'].includes(sub)) throw new UsageError(`unknown subcommand '${sub}'`);
    const { values, positionals } = parseFlags(rest, {
      store: { type: 'string' },
      config: { type: 'string' },
      'if-changed': { type: 'boolean' },
      status: { type: 'string' },
      decision: { type: 'string' },
      by: { type: 'string' },
      why: { type: 'string' },
      version: { type: 'string' },
      list: { type: 'string', multiple: true },
      subjects: { type: 'string' },
      name: { type: 'string' },
      country: { type: 'string' },
      type: { type: 'string' },
      hit: { type: 'string' },
      review: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (sub === 'review' || sub === 'results') {
      if (sub === 'review' && positionals.length !== 1) throw new UsageError('expected one screening result ID');
      if (sub === 'results' && positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      return withStore(values, io, async (db) => {
        const repo = new ScreeningRepository(db, { auditActor: cliActor() });
        if (sub === 'results') {
          const status = values.status as ReviewStatus | undefined;
          if (status !== undefined && !['pending', 'confirmed', 'cleared'].includes(status)) throw new UsageError(`--status: expected pending, confirmed or cleared, got '${status}'`);
          const list = await repo.list(status ? { status } : {});
          if (values.json) io.out(JSON.stringify({ results: list }, null, 2) + '\n');
          else {
            if (list.length === 0) io.out('no screening results\n');
            for (const r of list) io.out(`${r.id}  ${r.status.padEnd(9)} ${r.decision.padEnd(6)} ${r.subjectKind} ${r.subjectId} '${r.subjectName}' ~ ${r.list}:${r.entryId} '${r.entryName}' score ${r.score}${r.incidentId ? ` incident ${r.incidentId}` : ''} (v${r.version})\n`);
          }
          return 0;
        }
        const version = values.version === undefined ? undefined : Number(values.version);
        if (version !== undefined && !Number.isInteger(version)) throw new UsageError(`--version: expected a whole number, got '${values.version}'`);
        try {
          const r = await repo.review(positionals[0]!, { decision: values.decision as 'confirm' | 'clear', by: values.by as string, why: values.why as string, ...(version !== undefined ? { version } : {}) });
          io.out(`screening result ${r.id} is now ${r.status}: ${r.subjectKind} ${r.subjectId} ${r.status === 'cleared' ? 'is no longer blocked' : 'stays blocked for governed models'}\n`);
          return 0;
        } catch (err) {
          if (err instanceof ScreeningConflictError) throw new CommandError(err.message);
          throw err;
        }
      });
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const lists = values.list as string[] | undefined;
    if (!lists?.length) throw new UsageError('give at least one --list');
    const threshold = (name: 'hit' | 'review') => {
      const v = values[name] as string | undefined;
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!(n > 0 && n <= 1)) throw new UsageError(`--${name}: expected a number in (0, 1], got '${v}'`);
      return n;
    };
    const hit = threshold('hit');
    const review = threshold('review');
    let entries: ScreeningEntry[];
    let subjects: Subject[];
    try {
      if (sub === 'run') {
        if (typeof values.subjects !== 'string') throw new UsageError('--subjects FILE is required');
        const subjectsToRun = readSubjects(values.subjects);
        return await withStore(values, io, async (db) => {
          const out = await runScreening(db, { lists, subjects: subjectsToRun, ifChanged: values['if-changed'] === true, auditActor: cliActor(), ...(hit !== undefined ? { hit } : {}), ...(review !== undefined ? { review } : {}) });
          if (out.skipped) {
            io.out('no list changed since the last run: nothing screened\n');
            return 0;
          }
          const hits = out.matches.filter((m) => m.decision === 'hit').length;
          io.out(`screened ${out.screened} subject(s)${out.changed.length ? ` (lists updated: ${out.changed.join(', ')})` : ''}: ${hits} hit(s), ${out.matches.length - hits} for review; ${out.newHits.length} new hit(s) blocked for governed models pending review${out.incidents.length ? `, incidents ${[...new Set(out.incidents)].join(', ')}` : ''}\n`);
          for (const m of out.matches) io.out(`  ${m.subjectId}: ${describeMatch(m)}\n`);
          return 0;
        });
      }
      entries = lists.flatMap((l) => loadList(l));
      if (sub === 'check') {
        if (typeof values.subjects !== 'string') throw new UsageError('--subjects FILE is required');
        subjects = readSubjects(values.subjects);
      } else {
        if (typeof values.name !== 'string') throw new UsageError('--name NAME is required');
        const type = values.type as string | undefined;
        if (type !== undefined && type !== 'individual' && type !== 'entity') throw new UsageError(`--type: expected individual or entity, got '${type}'`);
        const country = values.country === undefined ? null : countryCode(values.country as string);
        if (values.country !== undefined && country === null) throw new UsageError(`--country: '${values.country}' is not a country`);
        subjects = [{ id: '(name)', kind: 'account', name: values.name, country, ...(type ? { type: type as 'individual' | 'entity' } : {}) }];
      }
    } catch (err) {
      if (err instanceof ListFormatError) throw new UsageError(err.message);
      throw err;
    }
    const index = new ScreeningIndex(entries, { ...(hit !== undefined ? { hit } : {}), ...(review !== undefined ? { review: sub === 'explain' ? Math.min(review, 0.5) : review } : sub === 'explain' ? { review: 0.5 } : {}) });
    const results = subjects.map((s) => ({ subject: s, matches: index.screen(s) }));
    const hits = results.filter((r) => r.matches.some((m) => m.decision === 'hit')).length;
    const reviews = results.filter((r) => r.matches.length && !r.matches.some((m) => m.decision === 'hit')).length;
    if (values.json) io.out(JSON.stringify({ lists: lists, entries: index.size, subjects: subjects.length, hits, reviews, results: results.filter((r) => r.matches.length) }, null, 2) + '\n');
    else {
      io.out(`screened ${subjects.length} subject(s) against ${index.size.entries} entries (${index.size.names} names): ${hits} hit(s), ${reviews} for review\n`);
      for (const r of results) {
        if (!r.matches.length) continue;
        io.out(`${r.subject.kind} ${r.subject.id} '${r.subject.name}'${r.subject.country ? ` (${r.subject.country})` : ''}\n`);
        for (const m of r.matches.slice(0, sub === 'explain' ? 10 : 5)) io.out(`  ${describeMatch(m)}\n`);
      }
    }
    return sub === 'check' && hits > 0 ? 3 : 0;
  });
}
