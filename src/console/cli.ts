/**
 * `gatehouse operators add|list|disable` — local operator accounts for the console and the admin API.
 * The password is read from the environment variable named by --password-env, or else from the first line of
 * standard input (never from an argument: those show in `ps` and shell history). Each change is audited (the audit
 * inbox, as `cli:<user>@<host>`). Exit: 0 ok, 1 failure (exists, not found), 2 invalid input.
 */
import { cliActor, recordAdminAction } from '../audit/inbox.ts';
import { CommandError, COMMON_OPTIONS, defaultIo, type Io, iso, parseFlags, runSubcommand, UsageError, withStore } from '../cli/common.ts';
import { parseTime } from '../audit/query.ts';
import { OperatorError, OperatorRepository, ROLES } from './operators.ts';

const USAGE = `usage: gatehouse operators <add|list|disable> [options]

  operators add NAME --role ${ROLES.join('|')} [--expires TIME] [--password-env VAR]
                 (password: from the environment variable VAR, else the first line of standard input;
                  at least 12 characters; an auditor account needs --expires)
  operators list [--json]
  operators disable NAME          (ends the operator's sessions at once; the name stays in the records)

common options: --store URL, --config FILE (reads store.url), --json
`;

const OPTIONS = { ...COMMON_OPTIONS, role: { type: 'string' }, expires: { type: 'string' }, 'password-env': { type: 'string' } } as const;

async function readStdinLine(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('give the password on standard input or with --password-env VAR');
  let data = '';
  for await (const chunk of process.stdin) {
    data += chunk;
    if (data.includes('\n')) break;
  }
  return data.split('\n')[0]!.replace(/\r$/, '');
}

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('operators', argv, USAGE, io, async (sub, rest) => {
    const { values, positionals } = parseFlags(rest, OPTIONS);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (sub === 'add') {
      if (positionals.length !== 1) throw new UsageError('expected: operators add NAME --role ROLE');
      const role = values.role as string | undefined;
      if (!role) throw new UsageError('--role is required');
      const expiresAt = values.expires ? parseTime(values.expires as string, '--expires') : null;
      const envName = values['password-env'] as string | undefined;
      const password = envName !== undefined ? io.env[envName] : await readStdinLine();
      if (password === undefined) throw new UsageError(`environment variable ${envName} is not set`);
      return withStore(values, io, async (db) => {
        try {
          const by = cliActor();
          const op = await new OperatorRepository(db).add({ name: positionals[0]!, role, password, expiresAt, by });
          await recordAdminAction(db, { action: 'operator.added', actor: by, target: op.name, details: { role: op.role, expiresAt: op.expiresAt } });
          io.out(values.json ? JSON.stringify(op) + '\n' : `added operator ${op.name} (${op.role}${op.expiresAt ? `, expires ${iso(op.expiresAt)}` : ''})\n`);
          return 0;
        } catch (err) {
          if (err instanceof OperatorError) {
            if (err.status === 400) throw new UsageError(err.message);
            throw new CommandError(err.message);
          }
          throw err;
        }
      });
    }
    if (sub === 'list') {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      return withStore(values, io, async (db) => {
        const ops = await new OperatorRepository(db).list();
        if (values.json) io.out(JSON.stringify(ops, null, 2) + '\n');
        else if (!ops.length) io.out('no operators\n');
        else for (const o of ops) io.out(`${o.name.padEnd(24)} ${o.role.padEnd(9)} ${o.disabled ? 'disabled' : 'active  '} ${o.source === 'oidc' ? 'single sign-on ' : ''}${o.expiresAt ? `expires ${iso(o.expiresAt)}` : ''}\n`);
        return 0;
      });
    }
    if (sub === 'disable') {
      if (positionals.length !== 1) throw new UsageError('expected: operators disable NAME');
      return withStore(values, io, async (db) => {
        try {
          const by = cliActor();
          const op = await new OperatorRepository(db).disable(positionals[0]!);
          await recordAdminAction(db, { action: 'operator.disabled', actor: by, target: op.name });
          io.out(values.json ? JSON.stringify(op) + '\n' : `disabled operator ${op.name}; its sessions have ended\n`);
          return 0;
        } catch (err) {
          if (err instanceof OperatorError) throw new CommandError(err.message);
          throw err;
        }
      });
    }
    throw new UsageError(`unknown subcommand '${sub}'`);
  });
}
