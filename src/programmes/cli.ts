/**
 * `gatehouse programmes list|show|apply|grant|reject|revoke` — trusted-access programme applications, worked on the
 * store directly through the repository, so each step is audited (the audit inbox, as `cli:<user>@<host>`) and
 * bumps the `programmes` revision exactly as through the admin API. Exit: 0 ok, 1 failure (not found, wrong
 * state, store), 2 invalid input.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { cliActor } from '../core/admin-actions.ts';
import { CommandError, COMMON_OPTIONS, defaultIo, type Io, iso, parseFlags, runSubcommand, UsageError, withStore } from '../cli/common.ts';
import { formatPath } from '../core/validation.ts';
import { parseTimeFlag } from '../population/time.ts';
import { configSchema } from './config.ts';
import { type Application, type ApplicationStatus, ProgrammeRepository } from './repository.ts';

const USAGE = `usage: gatehouse programmes <list|show|apply|grant|reject|revoke> [options]

  programmes list   [--status applied|granted|rejected|revoked] [--programme NAME] [--json]
  programmes show   ID [--json]
  programmes apply  NAME (--account ID | --org ID) --evidence TEXT [--link URL …] [--json]
                    (NAME must be one of programmes.names in the config given with --config)
  programmes grant  ID --by WHO --expires TIME [--tier TIER] [--reason TEXT]
                    (TIME: ISO 8601 with offset, epoch ms, or a number of days like 90d; must be in the future)
  programmes reject ID --by WHO --reason TEXT
  programmes revoke ID --by WHO --reason TEXT

common options: --store URL, --config FILE (reads store.url and programmes.names), --json
`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  status: { type: 'string' },
  programme: { type: 'string' },
  account: { type: 'string' },
  org: { type: 'string' },
  evidence: { type: 'string' },
  link: { type: 'string', multiple: true },
  by: { type: 'string' },
  reason: { type: 'string' },
  tier: { type: 'string' },
  expires: { type: 'string' },
} as const;

const STATUSES: ApplicationStatus[] = ['applied', 'granted', 'rejected', 'revoked'];
const SLUG = /^[a-z0-9][a-z0-9._:-]{0,99}$/;

/** Programme names from the config file's `programmes:` section (none without a config). */
function programmeNames(path: string | undefined): readonly string[] {
  if (!path) return [];
  let doc: Record<string, unknown>;
  try {
    doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new CommandError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const parsed = configSchema.safeParse(doc.programmes ?? undefined);
  if (!parsed.success) throw new CommandError(`${path}: ${parsed.error.issues.map((i) => `programmes.${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  return parsed.data.names;
}

function textFlag(value: unknown, flag: string, max: number): string {
  if (typeof value !== 'string' || !value.trim()) throw new UsageError(`${flag} is required (a non-empty text)`);
  if (value.length > max) throw new UsageError(`${flag}: longer than ${max} characters`);
  return value.trim();
}

function expiry(value: string): number {
  const days = /^(\d{1,4})d$/.exec(value);
  let ms: number;
  if (days) ms = Date.now() + Number(days[1]) * 86_400_000;
  else {
    try {
      ms = parseTimeFlag(value, '--expires');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (ms <= Date.now()) throw new UsageError(`--expires: ${new Date(ms).toISOString()} is not in the future`);
  return ms;
}

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('programmes', argv, USAGE, io, async (sub, rest) => {
    const { values, positionals } = parseFlags(rest, OPTIONS);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (!['list', 'show', 'apply', 'grant', 'reject', 'revoke'].includes(sub)) throw new UsageError(`unknown subcommand '${sub}'`);
    if (sub === 'list') {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    } else if (positionals.length !== 1) {
      throw new UsageError(`expected one ${sub === 'apply' ? 'programme NAME' : 'application ID'}, got ${positionals.length} argument(s)`);
    }
    const arg = positionals[0]!;
    // Validate everything before opening the store: bad input never touches it.
    let act: (repo: ProgrammeRepository) => Promise<number>;
    const print = (a: Application, verb: string) => io.out(values.json ? JSON.stringify(a, null, 2) + '\n' : `${verb} application ${a.id} (${a.programme} for ${a.subject.kind}:${a.subject.id})${a.expiresAt !== null && a.status === 'granted' ? ` until ${iso(a.expiresAt)}` : ''}\n`);
    switch (sub) {
      case 'list': {
        const status = values.status as string | undefined;
        if (status !== undefined && !STATUSES.includes(status as ApplicationStatus)) throw new UsageError(`--status: expected one of ${STATUSES.join(', ')}, got '${status}'`);
        const programme = values.programme as string | undefined;
        act = async (repo) => {
          const all = await repo.list({ ...(status ? { status: status as ApplicationStatus } : {}), ...(programme ? { programme } : {}) });
          if (values.json) io.out(JSON.stringify(all, null, 2) + '\n');
          else if (all.length === 0) io.out('no programme applications\n');
          else for (const a of all) io.out(line(a));
          return 0;
        };
        break;
      }
      case 'show':
        act = async (repo) => {
          const a = await repo.get(arg);
          if (!a) throw new CommandError(`no programme application '${arg}'`);
          io.out(values.json ? JSON.stringify(a, null, 2) + '\n' : detail(a));
          return 0;
        };
        break;
      case 'apply': {
        const names = programmeNames(values.config as string | undefined);
        if (!names.includes(arg)) throw new UsageError(names.length ? `unknown programme '${arg}' (expected one of ${names.join(', ')})` : `unknown programme '${arg}': no programmes are configured (programmes.names in the file given with --config)`);
        if ((values.account === undefined) === (values.org === undefined)) throw new UsageError('apply needs exactly one of --account ID or --org ID');
        const subject = values.account !== undefined ? { kind: 'account' as const, id: textFlag(values.account, '--account', 200) } : { kind: 'org' as const, id: textFlag(values.org, '--org', 200) };
        const evidence = textFlag(values.evidence, '--evidence', 10_000);
        const links = ((values.link as string[] | undefined) ?? []).map((l) => l.trim());
        if (links.length > 20) throw new UsageError('--link: at most 20 links');
        for (const l of links) if (!/^https?:\/\/\S+$/i.test(l) || l.length > 2000) throw new UsageError(`--link: expected an http:// or https:// URL, got '${l}'`);
        act = async (repo) => {
          print(await repo.apply({ programme: arg, subject, evidence: { text: evidence, links } }), 'created');
          return 0;
        };
        break;
      }
      default: {
        const decision = sub as 'grant' | 'reject' | 'revoke';
        const by = textFlag(values.by, '--by', 200);
        let reason: string | null = null;
        let tier: string | null = null;
        let expiresAt: number | null = null;
        if (decision === 'grant') {
          if (values.expires === undefined) throw new UsageError('grant needs --expires TIME (when the grant ends)');
          expiresAt = expiry(values.expires as string);
          if (values.tier !== undefined) {
            tier = textFlag(values.tier, '--tier', 100);
            if (!SLUG.test(tier)) throw new UsageError(`--tier: expected lower-case letters, digits and . _ : -, got '${tier}'`);
          }
          if (values.reason !== undefined) reason = textFlag(values.reason, '--reason', 2000);
        } else {
          if (values.tier !== undefined || values.expires !== undefined) throw new UsageError(`${decision} takes no --tier or --expires`);
          reason = textFlag(values.reason, '--reason', 2000);
        }
        const verb = decision === 'grant' ? 'granted' : decision === 'reject' ? 'rejected' : 'revoked';
        act = async (repo) => {
          print(await repo.decide(arg, { decision, by, reason, tier, expiresAt }), verb);
          return 0;
        };
      }
    }
    return withStore(values, io, async (db) => {
      try {
        return await act(new ProgrammeRepository(db, { auditActor: cliActor() }));
      } catch (err) {
        // The repository's not-found and wrong-state errors carry an admin status (404, 409): expected failures.
        if (err instanceof Error && 'adminStatus' in err) throw new CommandError(err.message);
        throw err;
      }
    });
  });
}

function line(a: Application): string {
  const until = a.status === 'granted' && a.expiresAt !== null ? `  until ${iso(a.expiresAt)}${a.expiresAt <= Date.now() ? ' (expired)' : ''}` : '';
  return `${a.id}  ${a.status.padEnd(8)}  ${a.programme}  ${a.subject.kind}:${a.subject.id}${a.tier ? `  tier=${a.tier}` : ''}${until}\n`;
}

function detail(a: Application): string {
  const rows: Array<[string, string]> = [
    ['id', a.id],
    ['programme', a.programme],
    ['subject', `${a.subject.kind}:${a.subject.id}`],
    ['status', a.status],
    ['evidence', a.evidence.text],
    ...a.evidence.links.map((l): [string, string] => ['link', l]),
    ['applied', iso(a.createdAt)],
  ];
  if (a.decidedAt !== null) rows.push(['decided', `${iso(a.decidedAt)} by ${a.decidedBy ?? '-'}`]);
  if (a.reason !== null) rows.push(['reason', a.reason]);
  if (a.tier !== null) rows.push(['tier', a.tier]);
  if (a.expiresAt !== null) rows.push(['expires', `${iso(a.expiresAt)}${a.expiresAt <= Date.now() ? ' (expired)' : ''}`]);
  return rows.map(([k, v]) => `${k.padEnd(10)} ${v}\n`).join('');
}
