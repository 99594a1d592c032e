/**
 * `gatehouse tokens create|list|revoke` — per-operator and per-service bearer tokens for the admin API, with scopes
 * and an expiry. The secret is printed once, at creation. Each change is audited (the audit inbox, as
 * `cli:<user>@<host>`). Exit: 0 ok, 1 failure (not found, already revoked), 2 invalid input.
 */
import { cliActor, recordAdminAction } from '../audit/inbox.ts';
import { COMMON_OPTIONS, CommandError, defaultIo, iso, parseFlags, runCommand, UsageError, withStore, type Io } from '../cli/common.ts';
import { parseTimeFlag } from '../population/time.ts';
import { OperatorError, ROLES } from './operators.ts';
import { SCOPE_AREAS } from './scopes.ts';
import { AdminTokenRepository, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, statusOf, type TokenStatus } from './tokens.ts';

const USAGE = `usage: gatehouse tokens <create|list|revoke> [options]

  tokens create NAME --operator OPERATOR --scopes SCOPES [--expires TIME]
  tokens create NAME --service SERVICE --role ${ROLES.join('|')} --scopes SCOPES [--expires TIME]
                 (the token acts as the operator, with their role, or as service:SERVICE with the role given;
                  SCOPES: comma-separated <area>:read, <area>:write, *:read or *; areas: ${SCOPE_AREAS.join(', ')};
                  --expires: ISO 8601 time, epoch ms, or a number of days like 30d (default ${DEFAULT_TOKEN_DAYS}d, at most ${MAX_TOKEN_DAYS}d);
                  the secret is printed once)
  tokens list [--status active|expired|revoked] [--operator NAME] [--json]
  tokens revoke ID               (refused at once on every replica)

common options: --store URL, --config FILE (reads store.url), --json
`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  operator: { type: 'string' },
  service: { type: 'string' },
  role: { type: 'string' },
  scopes: { type: 'string' },
  expires: { type: 'string' },
  status: { type: 'string' },
} as const;

function expiry(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = /^(\d{1,4})d$/.exec(value);
  if (days) return Date.now() + Number(days[1]) * 86_400_000;
  try {
    return parseTimeFlag(value, '--expires');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function mapError(err: unknown): never {
  if (err instanceof OperatorError) {
    if (err.status === 400) throw new UsageError(err.message);
    throw new CommandError(err.message);
  }
  throw err;
}

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [, sub, ...rest] = argv;
  if (!sub || sub === '-h' || sub === '--help' || sub === 'help') {
    (sub ? io.out : io.err)(USAGE);
    return sub ? 0 : 2;
  }
  return runCommand(`tokens ${sub}`, USAGE, io, async () => {
    const { values, positionals } = parseFlags(rest, OPTIONS);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (sub === 'create') {
      if (positionals.length !== 1) throw new UsageError('expected: tokens create NAME (--operator OPERATOR | --service SERVICE --role ROLE) --scopes SCOPES');
      if (!values.scopes) throw new UsageError('--scopes is required (e.g. --scopes directives:write,audit:read)');
      const scopes = (values.scopes as string).split(',').map((s) => s.trim()).filter(Boolean);
      const expiresAt = expiry(values.expires as string | undefined);
      return withStore(values, io, async (db) => {
        try {
          const by = cliActor();
          const { token, secret } = await new AdminTokenRepository(db).create({
            name: positionals[0]!,
            operator: values.operator as string | undefined,
            service: values.service as string | undefined,
            role: values.role as string | undefined,
            scopes,
            expiresAt,
            by,
          });
          await recordAdminAction(db, { action: 'token.created', actor: by, target: token.id, details: { name: token.name, operator: token.operator, service: token.service, role: token.role, scopes: token.scopes, expiresAt: token.expiresAt } });
          if (values.json) io.out(JSON.stringify({ token, secret }) + '\n');
          else io.out(`created admin token ${token.id} for ${token.operator ?? `service:${token.service} (${token.role})`}, scopes ${token.scopes.join(' ')}, expires ${iso(token.expiresAt)}\n${secret}\n(the secret is shown once: send it as Authorization: Bearer <secret>)\n`);
          return 0;
        } catch (err) {
          return mapError(err);
        }
      });
    }
    if (sub === 'list') {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const status = values.status as string | undefined;
      if (status !== undefined && !['active', 'expired', 'revoked'].includes(status)) throw new UsageError('--status: expected active, expired or revoked');
      return withStore(values, io, async (db) => {
        const list = await new AdminTokenRepository(db).list({ ...(status ? { status: status as TokenStatus } : {}), ...(values.operator ? { operator: values.operator as string } : {}) });
        const now = Date.now();
        if (values.json) io.out(JSON.stringify(list.map((t) => ({ ...t, status: statusOf(t, now) })), null, 2) + '\n');
        else if (!list.length) io.out('no admin tokens\n');
        else for (const t of list) io.out(`${t.id}  ${statusOf(t, now).padEnd(7)}  ${(t.operator ?? `service:${t.service} (${t.role})`).padEnd(28)} ${t.name.padEnd(20)} ${t.scopes.join(',')}  expires ${iso(t.expiresAt)}\n`);
        return 0;
      });
    }
    if (sub === 'revoke') {
      if (positionals.length !== 1) throw new UsageError('expected: tokens revoke ID');
      return withStore(values, io, async (db) => {
        try {
          const by = cliActor();
          const t = await new AdminTokenRepository(db).revoke(positionals[0]!, by);
          await recordAdminAction(db, { action: 'token.revoked', actor: by, target: t.id, details: { name: t.name, operator: t.operator, service: t.service } });
          io.out(values.json ? JSON.stringify(t) + '\n' : `revoked admin token ${t.id}\n`);
          return 0;
        } catch (err) {
          return mapError(err);
        }
      });
    }
    throw new UsageError(`unknown subcommand '${sub}'`);
  });
}
