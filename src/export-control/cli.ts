/**
 * `gatehouse export-control report`: for a period, every request served under each licence of the ledger and
 * every request refused for lack of one — the record an export-control officer is asked for. Reads the audit log,
 * the licence ledger and the key store (read only). Exit: 0 ok, 1 failure, 2 bad flags.
 */
import { parseTime } from '../audit/query.ts';
import { defaultIo, type Io, iso, parseFlags, runSubcommand, UsageError } from '../cli/common.ts';
import { loadBaseline, openStoreReadOnly } from '../replay/baseline.ts';
import { principalIndex, principalsFromJsonl } from '../replay/principals.ts';
import { auditLogFiles } from '../replay/reader.ts';
import { resolveStoreUrl } from '../store/open.ts';
import { licenceReport, type LicenceReport } from './report.ts';
import { LicenceRepository } from '../policy/licence-repository.ts';
import type { LicenceExport } from '../policy/licence-exports.ts';

export const USAGE = `usage: gatehouse export-control report --config FILE [--from TIME] [--to TIME] [--licence ID]
                                     [--log PATH] [--store URL] [--principals FILE] [--requests] [--json]

For the period: each licence (licensee, models, nationalities, destinations, validity) with every request served
under it (by model, account and country of residence; --requests lists each one), and every request refused for
lack of a licence (by model and by the directive or rule that required it). The audit log defaults to audit.path of
--config; licences and keys come from the store (read only).
`;

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('export-control', argv, USAGE, io, async (sub, rest) => {
    if (sub !== 'report') throw new UsageError(`unknown subcommand '${sub}'`);
    const { values, positionals } = parseFlags(rest, {
      config: { type: 'string' },
      store: { type: 'string' },
      log: { type: 'string' },
      principals: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      licence: { type: 'string' },
      requests: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const time = (name: 'from' | 'to') => {
      const v = values[name] as string | undefined;
      if (v === undefined) return undefined;
      try {
        return parseTime(v, `--${name}`);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    };
    // Flags first: a bad one is reported before anything is opened.
    const from = time('from');
    const to = time('to');
    const configPath = values.config as string | undefined;
    const { db, note } = await openStoreReadOnly(resolveStoreUrl({ flag: values.store as string | undefined, configPath, env: io.env }));
    if (note) io.err(`warning: ${note}\n`);
    let loaded;
    let exports: LicenceExport[] = [];
    try {
      loaded = await loadBaseline(configPath, db);
      // A store no gateway of this version has migrated has no exports table yet: report without exports.
      if (db) exports = await new LicenceRepository(db).exportsOf().catch((err: Error) => (io.err(`warning: licence exports unavailable (${err.message.split('\n')[0]}): reported without them\n`), []));
    } finally {
      await db?.close();
    }
    for (const w of loaded.warnings) io.err(`warning: ${w}\n`);
    const principals = principalIndex(values.principals ? principalsFromJsonl(values.principals as string) : loaded.principals);
    const files = await auditLogFiles((values.log as string | undefined) ?? loaded.auditPath).catch((err: Error) => {
      throw new UsageError(`cannot read the audit log: ${err.message}`);
    });
    const report = await licenceReport(files, loaded.baseline.access, loaded.baseline.licences ?? [], principals, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), exports });
    if (values.licence) {
      report.licences = report.licences.filter((s) => s.licence.id === values.licence);
      if (report.licences.length === 0) throw new UsageError(`--licence: no licence '${values.licence}' in the ledger for this period`);
    }
    if (values.json) io.out(JSON.stringify(report, null, 2) + '\n');
    else io.out(format(report, values.requests === true));
    return 0;
  });
}

const top = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '-';

function format(r: LicenceReport, listRequests: boolean): string {
  const lines = [`export-control report ${r.period.from ?? '(start of log)'} – ${r.period.to ?? '(end of log)'}, generated ${r.generatedAt}`];
  for (const s of r.licences) {
    const l = s.licence;
    lines.push(
      `licence ${l.id} (${l.reference}, ${l.authority}): ${l.licenseeType} ${l.licensee}; models ${l.models.join(', ')}; nationalities ${l.nationalities.join(', ')}; destinations ${l.destinations.join(', ')}; valid ${iso(l.validFrom)} – ${iso(l.validTo)}${l.revokedAt !== null ? `; revoked ${iso(l.revokedAt)}` : ''}`,
      `  served ${s.served.count}: by model ${top(s.served.byModel)}; by residence ${top(s.served.byResidence)}; by account ${top(s.served.byAccount)}`,
    );
    if (listRequests) for (const q of s.served.requests) lines.push(`    ${iso(q.time)} ${q.requestId} ${q.model} account ${q.accountId ?? '-'} org ${q.orgId ?? '-'} key ${q.keyId ?? '-'} residence ${q.residence ?? '-'}`);
    for (const x of s.exports) {
      const e = x.export;
      lines.push(`  export ${e.id}: ${e.recipient}, ${e.model} to ${e.destination}, valid ${iso(e.validFrom)} – ${iso(e.validTo)}${e.revokedAt !== null ? `, revoked ${iso(e.revokedAt)}` : ''}: served ${x.served.count}${listRequests && x.served.requests.length ? ` (${x.served.requests.join(', ')})` : ''}`);
    }
    if (s.outsideExports.count) lines.push(`  served outside any recorded export: ${s.outsideExports.count}${listRequests ? ` (${s.outsideExports.requests.join(', ')})` : ''}`);
  }
  const f = r.refusedForLackOfLicence;
  lines.push(`refused for lack of a licence: ${f.count}; by model ${top(f.byModel)}; required by ${top(f.byRequiredBy)}`);
  if (listRequests) for (const q of f.requests) lines.push(`    ${iso(q.time)} ${q.requestId} ${q.model} account ${q.accountId ?? '-'} org ${q.orgId ?? '-'} (${q.requiredBy})`);
  if (r.unattributed.count) lines.push(`served requests of unknown principals (not attributed): ${r.unattributed.count}, e.g. ${r.unattributed.examples.join(', ')}`);
  for (const b of r.badRecords) lines.push(`bad record ${b.file}:${b.line}: ${b.reason}`);
  return lines.join('\n') + '\n';
}
