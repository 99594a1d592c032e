/**
 * `gatehouse licences grant|list|show|revoke|record-export|exports|revoke-export` — the licence ledger and the exports
 * each licence covers. Exit: 0 ok, 1 failure, 2 invalid input.
 */
import { cliActor } from '../core/admin-actions.ts';
import { AccessControl } from './access-control.ts';
import { CommandError, COMMON_OPTIONS, defaultIo, type Io, iso, list, parseFlags, runSubcommand, UsageError, withStore } from '../cli/common.ts';
import { readCapabilityConfig } from './cli-config.ts';
import { ExportNotFoundError, LicenceNotFoundError, LicenceStateError } from './licence-repository.ts';
import type { LicenceRecord } from './licences.ts';
import type { LicenceExport } from './licence-exports.ts';
import { parseTimeFlag } from '../population/time.ts';

const USAGE = `usage: gatehouse licences <grant|list|show|revoke|record-export|exports|revoke-export> [options]

  licences grant  (--org ID | --account ID) --models a,b --nationalities CN,group:ear-d1|* [--destinations US,GB|*]
                  --valid-from now|ISO --valid-to ISO --reference NUMBER --authority TEXT [--id ID] --by WHO
  licences list   [--org ID | --account ID] [--json]
  licences show   ID [--json]
  licences revoke ID --by WHO --why TEXT
  licences record-export ID --recipient account:ID|org:ID --model M --destination CC [--valid-from T] [--valid-to T]
                  [--export-id ID] --by WHO      (an export the licence covers; validity defaults to the licence's)
  licences exports ID [--json]                  (the exports a licence covers, revoked ones included)
  licences revoke-export ID EXPORT_ID --by WHO --why TEXT
common options: --store URL, --config FILE, --json
`;

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('licences', argv, USAGE, io, async (sub, rest) => {
    const { values, positionals } = parseFlags(rest, {
      ...COMMON_OPTIONS,
      org: { type: 'string' },
      account: { type: 'string' },
      models: { type: 'string' },
      nationalities: { type: 'string' },
      destinations: { type: 'string' },
      'valid-from': { type: 'string' },
      'valid-to': { type: 'string' },
      reference: { type: 'string' },
      authority: { type: 'string' },
      id: { type: 'string' },
      by: { type: 'string' },
      why: { type: 'string' },
      recipient: { type: 'string' },
      model: { type: 'string' },
      destination: { type: 'string' },
      'export-id': { type: 'string' },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const needsId = sub === 'show' || sub === 'revoke' || sub === 'record-export' || sub === 'exports';
    if (sub === 'revoke-export' && positionals.length !== 2) throw new UsageError(`expected a licence ID and an export ID, got ${positionals.length} argument(s)`);
    else if (needsId && positionals.length !== 1) throw new UsageError(`expected one licence ID, got ${positionals.length}`);
    else if (!needsId && sub !== 'revoke-export' && positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const cfg = readCapabilityConfig(values.config as string | undefined);
    return withStore(values, io, async (db) => {
      const access = new AccessControl({ db, config: { policy: cfg.policy, directives: cfg.directives }, models: cfg.models, baseDir: cfg.baseDir, auditActor: cliActor() });
      access.reload();
      const repo = access.licencesRepo!;
      try {
        switch (sub) {
          case 'grant': {
            const body: Record<string, unknown> = {
              licensee: values.org !== undefined ? { org: values.org, ...(values.account !== undefined ? { account: values.account } : {}) } : values.account !== undefined ? { account: values.account } : {},
              models: list(values.models),
              nationalities: list(values.nationalities),
              validFrom: values['valid-from'] === undefined ? undefined : parseTimeFlag(values['valid-from'] as string, '--valid-from'),
              validTo: values['valid-to'] === undefined ? undefined : parseTimeFlag(values['valid-to'] as string, '--valid-to'),
              reference: values.reference,
              authority: values.authority,
              by: values.by,
            };
            const destinations = list(values.destinations);
            if (destinations) body.destinations = destinations;
            if (values.id !== undefined) body.id = values.id;
            const l = await repo.grant(body);
            io.out(values.json ? JSON.stringify(l, null, 2) + '\n' : `granted licence ${l.id}\n`);
            return 0;
          }
          case 'list': {
            const filter = values.org !== undefined ? { org: values.org as string } : values.account !== undefined ? { account: values.account as string } : {};
            const all = await repo.list(filter);
            if (values.json) io.out(JSON.stringify(all, null, 2) + '\n');
            else for (const l of all) io.out(line(l));
            return 0;
          }
          case 'show': {
            const l = await repo.get(positionals[0]!);
            if (!l) throw new LicenceNotFoundError(positionals[0]!);
            io.out(values.json ? JSON.stringify(l, null, 2) + '\n' : line(l));
            return 0;
          }
          case 'revoke': {
            if (typeof values.by !== 'string' || typeof values.why !== 'string') throw new UsageError('revoke needs --by WHO and --why TEXT');
            const l = await repo.revoke(positionals[0]!, values.by, values.why);
            io.out(values.json ? JSON.stringify(l, null, 2) + '\n' : `revoked licence ${l.id}\n`);
            return 0;
          }
          case 'record-export': {
            const body: Record<string, unknown> = { recipient: values.recipient, model: values.model, destination: values.destination, by: values.by };
            if (values['valid-from'] !== undefined) body.validFrom = parseTimeFlag(values['valid-from'] as string, '--valid-from');
            if (values['valid-to'] !== undefined) body.validTo = parseTimeFlag(values['valid-to'] as string, '--valid-to');
            if (values['export-id'] !== undefined) body.id = values['export-id'];
            const e = await repo.recordExport(positionals[0]!, body);
            io.out(values.json ? JSON.stringify(e, null, 2) + '\n' : `recorded export ${e.id} under licence ${e.licenceId}\n`);
            return 0;
          }
          case 'exports': {
            if (!(await repo.get(positionals[0]!))) throw new LicenceNotFoundError(positionals[0]!);
            const all = await repo.exportsOf(positionals[0]!);
            if (values.json) io.out(JSON.stringify(all, null, 2) + '\n');
            else if (all.length === 0) io.out(`licence ${positionals[0]} has no exports recorded\n`);
            else for (const e of all) io.out(exportLine(e));
            return 0;
          }
          case 'revoke-export': {
            if (typeof values.by !== 'string' || typeof values.why !== 'string') throw new UsageError('revoke-export needs --by WHO and --why TEXT');
            const e = await repo.revokeExport(positionals[0]!, positionals[1]!, values.by, values.why);
            io.out(values.json ? JSON.stringify(e, null, 2) + '\n' : `revoked export ${e.id} of licence ${e.licenceId}\n`);
            return 0;
          }
          default:
            throw new UsageError(`unknown subcommand '${sub}'`);
        }
      } catch (err) {
        if (err instanceof LicenceNotFoundError || err instanceof ExportNotFoundError || err instanceof LicenceStateError) throw new CommandError(err.message);
        throw err;
      }
    });
  });
}

function line(l: LicenceRecord): string {
  const state = l.revokedAt !== null ? 'revoked' : Date.now() >= l.validTo ? 'expired' : Date.now() < l.validFrom ? 'pending' : 'valid';
  return `${l.id}  ${state.padEnd(7)}  ${l.licenseeType}=${l.licensee}  models=${l.models.join(',')}  nationalities=${l.nationalities.join(',')}  destinations=${l.destinations.join(',')}  ${iso(l.validFrom)}..${iso(l.validTo)}  ${l.authority} ${l.reference}\n`;
}

function exportLine(e: LicenceExport): string {
  const now = Date.now();
  const state = e.revokedAt !== null ? 'revoked' : now >= e.validTo ? 'expired' : now < e.validFrom ? 'pending' : 'valid';
  return `${e.id}  ${state.padEnd(7)}  ${e.recipient}  model=${e.model}  destination=${e.destination}  ${iso(e.validFrom)}..${iso(e.validTo)}  recorded by ${e.recordedBy}\n`;
}
