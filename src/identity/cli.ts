/**
 * `gatehouse keys create|list|show|update|revoke` — manage API keys in the store.
 * Exit codes: 0 success, 1 failure (store unreachable, no such key, already revoked), 2 bad usage or invalid values,
 * 3 the change is stored but not every running gateway confirmed applying it within --wait-ms.
 * Secrets are printed exactly once, by `create`; nothing else ever prints a secret or its hash.
 */
import { cliActor } from '../core/admin-actions.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Db } from '../store/db.ts';
import { openDb, redactUrl, resolveStoreUrl } from '../store/open.ts';
import { migrate } from '../store/migrate.ts';
import { ALL_MIGRATIONS } from '../server/migrations.ts';
import { KYC_LEVELS } from '../core/types.ts';
import { KeyValidationError, type KeyAttributes } from './attributes.ts';
import { KeyNotFoundError, KeyRepository, KeyStateError, type KeyRecord } from './keys.ts';
import { waitForReplicas } from './replicas.ts';

const USAGE = `usage: gatehouse keys <create|list|show|update|revoke> [options]

  keys create --account ID [--org ID] [--nationality CC]… [--residence CC] [--kyc LEVEL]
              [--programme NAME]… [--tier NAME] [--staff] [--label TEXT]
              [--account-created-at ISO-DATE|EPOCH-MS] [--payment-fingerprint FP] [--json]
  keys list   [--account ID] [--status active|revoked] [--json]
  keys show   KEYID [--json]
  keys update KEYID [same attribute options as create; --no-staff clears staff; --clear-org,
              --clear-residence, --clear-label] [--json]
  keys revoke KEYID [--reason TEXT] [--json]
  (create, update, revoke also take --wait-ms N)

create, update and revoke return once every running gateway has applied the change (the very next request
sees it); --wait-ms N bounds that wait (default 5000, 0 = do not wait). Exit 3: stored, but a gateway named
on stderr had not applied it in time.

common options:
  --store URL     store (default: $DATABASE_URL, else store.url from --config, else sqlite:data/gatehouse.db)
  --config FILE   gateway config file to read store.url from
  -h, --help      this help

KYC levels: ${KYC_LEVELS.join(', ')}. Country codes: ISO 3166-1 alpha-2 (US, GB, …).
`;

const COMMON = {
  store: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Mutations wait for running gateways to apply them (confirmApplied). */
const WAIT = { 'wait-ms': { type: 'string' } } as const satisfies ParseArgsConfig['options'];

const ATTRIBUTE_OPTIONS = {
  account: { type: 'string' },
  org: { type: 'string' },
  nationality: { type: 'string', multiple: true },
  residence: { type: 'string' },
  kyc: { type: 'string' },
  programme: { type: 'string', multiple: true },
  tier: { type: 'string' },
  staff: { type: 'boolean' },
  label: { type: 'string' },
  'account-created-at': { type: 'string' },
  'payment-fingerprint': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

class UsageError extends Error {}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [, sub, ...rest] = argv;
  if (!sub || sub === '-h' || sub === '--help' || sub === 'help') {
    (sub ? io.out : io.err)(USAGE);
    return sub ? 0 : 2;
  }
  try {
    switch (sub) {
      case 'create':
        return await withRepo(rest, { ...COMMON, ...WAIT, ...ATTRIBUTE_OPTIONS }, io, 0, (repo, values) => create(repo, values, io));
      case 'list':
        return await withRepo(rest, { ...COMMON, account: { type: 'string' }, status: { type: 'string' } }, io, 0, (repo, values) => list(repo, values, io));
      case 'show':
        return await withRepo(rest, COMMON, io, 1, (repo, values, [id]) => show(repo, id!, values, io));
      case 'update':
        return await withRepo(
          rest,
          { ...COMMON, ...WAIT, ...ATTRIBUTE_OPTIONS, 'no-staff': { type: 'boolean' }, 'clear-org': { type: 'boolean' }, 'clear-residence': { type: 'boolean' }, 'clear-label': { type: 'boolean' } },
          io,
          1,
          (repo, values, [id]) => update(repo, id!, values, io),
        );
      case 'revoke':
        return await withRepo(rest, { ...COMMON, ...WAIT, reason: { type: 'string' } }, io, 1, (repo, values, [id]) => revoke(repo, id!, values, io));
      default:
        io.err(`gatehouse keys: unknown subcommand '${sub}'\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`gatehouse keys ${sub}: ${err.message}\n(see 'gatehouse keys --help')\n`);
      return 2;
    }
    if (err instanceof KeyValidationError) {
      io.err(`gatehouse keys ${sub}: invalid key attributes:\n${err.issues.map((i) => `  ${cliPath(i.path)}: ${i.message}`).join('\n')}\n`);
      return 2;
    }
    if (err instanceof KeyNotFoundError || err instanceof KeyStateError) {
      io.err(`gatehouse keys ${sub}: ${err.message}\n`);
      return 1;
    }
    io.err(`gatehouse keys ${sub}: ${(err as Error).message}\n`);
    return 1;
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;

async function withRepo(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  io: Io,
  positionalCount: number,
  fn: (repo: KeyRepository, values: Values, positionals: string[]) => Promise<number>,
): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== positionalCount) {
    throw new UsageError(
      positionalCount === 0 ? `unexpected argument '${parsed.positionals[0]}'` : parsed.positionals.length === 0 ? 'expected a KEYID' : `expected one KEYID, got ${parsed.positionals.length} arguments`,
    );
  }
  const url = resolveStoreUrl({ flag: parsed.values.store as string | undefined, configPath: parsed.values.config as string | undefined, env: io.env });
  let db: Db;
  try {
    db = await openDb(url);
  } catch (err) {
    throw new Error(`cannot open store ${redactUrl(url)}: ${(err as Error).message}`);
  }
  try {
    await migrate(db, ALL_MIGRATIONS);
    const repo = new KeyRepository(db, { auditActor: cliActor() });
    const code = await fn(repo, parsed.values, parsed.positionals);
    if (code !== 0 || repo.lastRevision === 0) return code;
    return await confirmApplied(db, repo.lastRevision, parsed.values, io);
  } finally {
    await db.close();
  }
}

const DEFAULT_WAIT_MS = 5_000;

/**
 * Read-your-writes: a change is committed, but a running gateway serves from its in-memory registry. Wait until
 * every running gateway reports that it applied this change (src/identity/replicas.ts), so that when the command
 * returns, the very next request anywhere sees it. Exit 3 names the gateways that did not confirm in time.
 */
async function confirmApplied(db: Db, rev: number, values: Values, io: Io): Promise<number> {
  const raw = values['wait-ms'] as string | undefined;
  if (raw !== undefined && !/^\d{1,7}$/.test(raw)) throw new UsageError(`--wait-ms: expected milliseconds (0 to 9999999), got '${raw}'`);
  const timeoutMs = raw === undefined ? DEFAULT_WAIT_MS : Number(raw);
  if (timeoutMs === 0) return 0;
  const { confirmed, pending } = await waitForReplicas(db, rev, { timeoutMs });
  if (pending.length === 0) {
    if (!values.json) io.out(confirmed.length ? `Applied by every running gateway (${confirmed.length}).\n` : 'No running gateway to confirm.\n');
    return 0;
  }
  io.err(
    `the change is stored, but ${pending.length} running gateway(s) had not applied it after ${timeoutMs} ms ` +
      `(they apply it when they next reach the store):\n${pending.map((p) => `  ${p.replicaId} (at revision ${p.rev}, last seen ${Math.round(p.seenAgoMs / 1000)} s ago)`).join('\n')}\n`,
  );
  return 3;
}

/** Maps attribute JSON paths back to the flags that set them, so errors name what the user typed. */
const FLAG_FOR: Record<string, string> = {
  accountId: '--account',
  orgId: '--org',
  nationalities: '--nationality',
  residence: '--residence',
  kyc: '--kyc',
  programmes: '--programme',
  tier: '--tier',
  staff: '--staff',
  label: '--label',
  accountCreatedAt: '--account-created-at',
  paymentFingerprint: '--payment-fingerprint',
};

function cliPath(path: string): string {
  const m = /^([A-Za-z]+)(?:\[(\d+)\])?/.exec(path);
  if (!m || !FLAG_FOR[m[1]!]) return path;
  return m[2] === undefined ? FLAG_FOR[m[1]!]! : `${FLAG_FOR[m[1]!]} #${Number(m[2]) + 1}`;
}

function parseTime(flag: string, value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag}: expected an ISO 8601 date or epoch milliseconds, got '${value}'`);
  return ms;
}

function attributesFrom(values: Values): Partial<KeyAttributes> {
  const attrs: Partial<KeyAttributes> = {};
  if (values.account !== undefined) attrs.accountId = values.account as string;
  if (values.org !== undefined) attrs.orgId = values.org as string;
  if (values.nationality !== undefined) attrs.nationalities = values.nationality as string[];
  if (values.residence !== undefined) attrs.residence = values.residence as string;
  if (values.kyc !== undefined) attrs.kyc = values.kyc as KeyAttributes['kyc'];
  if (values.programme !== undefined) attrs.programmes = values.programme as string[];
  if (values.tier !== undefined) attrs.tier = values.tier as string;
  if (values.staff !== undefined) attrs.staff = values.staff as boolean;
  if (values.label !== undefined) attrs.label = values.label as string;
  if (values['account-created-at'] !== undefined) attrs.accountCreatedAt = parseTime('--account-created-at', values['account-created-at'] as string);
  if (values['payment-fingerprint'] !== undefined) attrs.paymentFingerprint = values['payment-fingerprint'] as string;
  return attrs;
}

async function create(repo: KeyRepository, values: Values, io: Io): Promise<number> {
  if (values.account === undefined) throw new UsageError('--account is required');
  const { key, secret } = await repo.create(attributesFrom(values));
  if (values.json) {
    io.out(JSON.stringify({ secret, key }, null, 2) + '\n');
  } else {
    io.out(
      `Created key ${key.id} for account ${key.accountId} (tier ${key.tier}, kyc ${key.kyc}).\n` +
        `Secret — shown only this once; it cannot be recovered:\n\n  ${secret}\n\n`,
    );
  }
  return 0;
}

async function list(repo: KeyRepository, values: Values, io: Io): Promise<number> {
  const status = values.status as string | undefined;
  if (status !== undefined && status !== 'active' && status !== 'revoked') throw new UsageError(`--status: expected 'active' or 'revoked', got '${status}'`);
  const keys = await repo.list({ accountId: values.account as string | undefined, status: status as 'active' | 'revoked' | undefined });
  if (values.json) {
    io.out(JSON.stringify(keys, null, 2) + '\n');
    return 0;
  }
  if (keys.length === 0) {
    io.out('No keys.\n');
    return 0;
  }
  const header = ['ID', 'PREFIX', 'ACCOUNT', 'ORG', 'TIER', 'KYC', 'NATIONALITIES', 'RESIDENCE', 'STATUS', 'CREATED', 'LABEL'];
  const rows = keys.map((k) => [
    k.id,
    k.prefix + '…',
    k.accountId,
    k.orgId ?? '-',
    k.tier + (k.staff ? ' (staff)' : ''),
    k.kyc,
    k.nationalities.join(',') || '-',
    k.residence ?? '-',
    k.status,
    new Date(k.createdAt).toISOString().slice(0, 19) + 'Z',
    k.label ?? '',
  ]);
  io.out(table([header, ...rows]));
  return 0;
}

async function show(repo: KeyRepository, id: string, values: Values, io: Io): Promise<number> {
  const key = await repo.get(id);
  if (!key) throw new KeyNotFoundError(id);
  io.out(values.json ? JSON.stringify(key, null, 2) + '\n' : describe(key));
  return 0;
}

async function update(repo: KeyRepository, id: string, values: Values, io: Io): Promise<number> {
  const patch: Record<string, unknown> = attributesFrom(values);
  if (values['no-staff']) {
    if (values.staff) throw new UsageError('--staff and --no-staff contradict each other');
    patch.staff = false;
  }
  for (const [flag, field] of [
    ['clear-org', 'orgId'],
    ['clear-residence', 'residence'],
    ['clear-label', 'label'],
  ] as const) {
    if (!values[flag]) continue;
    if (patch[field] !== undefined) throw new UsageError(`--${flag} contradicts ${FLAG_FOR[field]}`);
    patch[field] = null;
  }
  if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give at least one attribute option');
  const key = await repo.update(id, patch);
  io.out(values.json ? JSON.stringify(key, null, 2) + '\n' : `Updated key ${key.id}.\n${describe(key)}`);
  return 0;
}

async function revoke(repo: KeyRepository, id: string, values: Values, io: Io): Promise<number> {
  const key = await repo.revoke(id, values.reason as string | undefined);
  io.out(values.json ? JSON.stringify(key, null, 2) + '\n' : `Revoked key ${key.id} (account ${key.accountId}).\n`);
  return 0;
}

function describe(k: KeyRecord): string {
  const lines: Array<[string, string]> = [
    ['id', k.id],
    ['prefix', k.prefix + '…'],
    ['status', k.status + (k.revokedAt ? ` at ${new Date(k.revokedAt).toISOString()}${k.revokedReason ? ` (${k.revokedReason})` : ''}` : '')],
    ['account', k.accountId],
    ['org', k.orgId ?? '-'],
    ['nationalities', k.nationalities.join(', ') || '-'],
    ['residence', k.residence ?? '-'],
    ['kyc', k.kyc],
    ['programmes', k.programmes.join(', ') || '-'],
    ['tier', k.tier],
    ['staff', k.staff ? 'yes' : 'no'],
    ['label', k.label ?? '-'],
    ['created', new Date(k.createdAt).toISOString()],
  ];
  return lines.map(([name, value]) => `${name.padEnd(14)} ${value}`).join('\n') + '\n';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function defaultIo(): Io {
  return { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env };
}
