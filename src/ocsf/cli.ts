/**
 * `gatehouse ocsf export [--file F | --config C] [--from T] [--to T] [--class api,auth,finding,account] [--limit N] [--validate]`
 * writes the audit log as OCSF 1.3.0 JSONL to stdout, streamed. `--validate` checks every event against the
 * class schemas (src/ocsf/schema.ts) and exits 1 naming the first event that fails. Exit 2: bad flags.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseTime } from '../audit/query.ts';
import { ocsfEvents, parseClasses, type ExportFilter } from './export.ts';
import { validateOcsf, OCSF_VERSION } from './schema.ts';

export const USAGE = `usage: gatehouse ocsf export [--file F | --config C] [--from T] [--to T] [--class api,auth,finding,account] [--limit N] [--validate]

Writes the audit log as OCSF ${OCSF_VERSION} events, one JSON object per line: API Activity (6003) per request,
Authentication (3002) per failed authentication, Detection Finding (2004) per classifier refusal, output-moderation
stop and abuse-ring action, Account Change (3001) per key change. The file defaults to audit.path of --config, else
data/audit/audit.jsonl. Field mapping: docs/ocsf.md.
`;

export interface Io {
  out: (s: string) => boolean | void;
  err: (s: string) => void;
  /** Resolves when the output can take more (back-pressure); absent = never waits. */
  drain?: () => Promise<unknown>;
}

const stdio = (): Io => ({ out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), drain: () => once(process.stdout, 'drain') });

function auditPathOf(config: string | undefined): string {
  if (!config) return 'data/audit/audit.jsonl';
  const doc = (parseYaml(readFileSync(config, 'utf8')) ?? {}) as { audit?: { path?: unknown } };
  return typeof doc.audit?.path === 'string' ? doc.audit.path : 'data/audit/audit.jsonl';
}

export async function run(argv: string[], io: Io = stdio()): Promise<number> {
  const [, sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(USAGE);
    return sub ? 0 : 2;
  }
  if (sub !== 'export') {
    io.err(`gatehouse ocsf: unknown subcommand '${sub}'\n\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  const filter: ExportFilter = {};
  let file: string;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { file: { type: 'string' }, config: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, class: { type: 'string' }, limit: { type: 'string' }, validate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }) as { values: Record<string, string | boolean | undefined> });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (typeof values.from === 'string') filter.from = parseTime(values.from, '--from');
    if (typeof values.to === 'string') filter.to = parseTime(values.to, '--to');
    if (typeof values.class === 'string') filter.classes = parseClasses(values.class);
    if (typeof values.limit === 'string') {
      if (!/^\d+$/.test(values.limit)) throw new Error(`--limit: expected a whole number, got '${values.limit}'`);
      filter.limit = Number(values.limit);
    }
    file = typeof values.file === 'string' ? values.file : auditPathOf(values.config as string | undefined);
  } catch (e) {
    io.err(`gatehouse ocsf export: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const version = (() => {
    try {
      return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
    } catch {
      return undefined;
    }
  })();
  let n = 0;
  try {
    for await (const ev of ocsfEvents(file, filter, version ? { productVersion: version } : {})) {
      n++;
      if (values.validate) {
        const problems = validateOcsf(ev);
        if (problems.length) {
          io.err(`gatehouse ocsf export: event ${n} (class ${ev.class_uid}, ${String((ev.metadata as { uid?: string }).uid ?? '')}) does not match the OCSF ${OCSF_VERSION} schema: ${problems.join('; ')}\n`);
          return 1;
        }
      }
      if (io.out(JSON.stringify(ev) + '\n') === false && io.drain) await io.drain();
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.err(`gatehouse ocsf export: ${err.code === 'ENOENT' ? `no audit log at ${file}` : err.message}\n`);
    return 1;
  }
  return 0;
}
