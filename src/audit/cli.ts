/**
 * `gatehouse audit verify|export|query|text|purge-text`.
 *   verify [--file F] [--public-key K] [--config C]        exit 0 when intact, 1 naming the first bad record
 *   verify --bundle B [--public-key K]                      an evidence bundle, offline (bundle.ts)
 *   export [--file F] [--from T] [--to T] [--format jsonl|csv]
 *   query  [--file F] [--principal P] [--account A] [--model M] [--action X] [--from T] [--to T] [--limit N]
 *   text   <requestId> [--time T] --config C               decrypt one request's retained text (retention on)
 *   purge-text --config C                                   delete retained text older than retention.days now
 *   keygen --out FILE [--force]                             new Ed25519 signing key for checkpoints (FILE, FILE.pub)
 * The file defaults to `audit.path` from --config, else data/audit/audit.jsonl. The public key defaults to
 * $GATEHOUSE_AUDIT_PUBLIC_KEY, else the public half of `audit.signingKey` from --config.
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, resolveAuditPaths, type AuditConfig } from './config.ts';
import { describeBad, verifyAudit } from './verify.ts';
import { auditRecords, CSV_COLUMNS, matches, parseTime, toCsvRow, type AuditFilter } from './query.ts';
import { canonicalJson } from './canonical-json.ts';
import { TextVault } from './retention.ts';
import { describeBundleProblem, verifyBundle } from './bundle.ts';

const USAGE = `usage:
  gatehouse audit verify [--file F] [--public-key K] [--config C]
  gatehouse audit verify --bundle B [--public-key K]     (an evidence bundle, without the log)
  gatehouse audit export [--file F] [--from T] [--to T] [--format jsonl|csv] [--config C]
  gatehouse audit query  [--file F] [--principal P] [--account A] [--model M] [--action X] [--from T] [--to T] [--limit N] [--config C]
  gatehouse audit text   <requestId> [--time T] --config C
  gatehouse audit purge-text --config C
  gatehouse audit keygen --out FILE [--force]

  keygen writes a new Ed25519 private key for signed checkpoints to FILE (PEM, mode 0600) and its public half to
  FILE.pub, and prints the public key. Set audit.signingKey to FILE (relative paths resolve against the config
  file); give the public key to verifiers (audit verify --public-key or GATEHOUSE_AUDIT_PUBLIC_KEY).
  With --config, paths in the audit section resolve relative to that file.
`;

/** `audit keygen`: the private key never goes to stdout, only to a file only its owner can read. */
function keygen(outFile: string | undefined, force: boolean): number {
  if (!outFile) {
    process.stderr.write(`gatehouse audit keygen: --out FILE is required (the private key is written there, never printed)\n${USAGE}`);
    return 2;
  }
  if (!force && (existsSync(outFile) || existsSync(`${outFile}.pub`))) {
    process.stderr.write(`gatehouse audit keygen: ${outFile} (or ${outFile}.pub) already exists; pass --force to replace it\n`);
    return 1;
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  try {
    mkdirSync(dirname(resolve(outFile)), { recursive: true });
    // 'wx' refuses to replace an existing key (checkpoints signed with it could no longer be verified by its successor).
    writeFileSync(outFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: force ? 'w' : 'wx' });
    writeFileSync(`${outFile}.pub`, publicKey.export({ type: 'spki', format: 'pem' }), { flag: force ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    process.stderr.write(`gatehouse audit keygen: ${code === 'EEXIST' ? `${outFile} (or ${outFile}.pub) already exists; pass --force to replace it` : (e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `wrote the private key to ${outFile} (keep it secret) and the public key to ${outFile}.pub\n` +
      `config:     audit: { signingKey: ${outFile} }   # relative paths resolve against the config file\n` +
      `public key: ${pub}\n` +
      `verify:     gatehouse audit verify --config FILE --public-key ${outFile}.pub\n`,
  );
  return 0;
}

function auditConfig(configFile: string | undefined): AuditConfig {
  if (!configFile) return configSchema.parse({});
  const doc = (parseYaml(readFileSync(configFile, 'utf8')) ?? {}) as { audit?: unknown };
  const r = configSchema.safeParse(doc.audit ?? {});
  if (!r.success) throw new Error(`${configFile}: audit: ${r.error.issues.map((i) => `${i.path.join('.') || '(section)'}: ${i.message}`).join('; ')}`);
  return resolveAuditPaths(r.data, dirname(resolve(configFile)));
}

/** `--help` text for `gatehouse audit …` (main.ts prints it). */
export function help(): string {
  return USAGE;
}

export async function run(argv: string[]): Promise<number> {
  const [, sub, ...rest] = argv;
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  if (!sub || sub === '--help' || sub === 'help') {
    out(USAGE);
    return sub ? 0 : 2;
  }
  let values: Record<string, string | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: {
        file: { type: 'string' }, config: { type: 'string' }, 'public-key': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
        format: { type: 'string' }, principal: { type: 'string' }, account: { type: 'string' }, model: { type: 'string' }, action: { type: 'string' },
        limit: { type: 'string' }, time: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, bundle: { type: 'string' },
      },
      strict: true,
      allowPositionals: sub === 'text',
    }) as { values: Record<string, string | undefined>; positionals: string[] });
  } catch (e) {
    err(`gatehouse audit: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (sub === 'keygen') return keygen(values.out, values.force !== undefined);
  let cfg: AuditConfig;
  try {
    cfg = auditConfig(values.config);
  } catch (e) {
    err(`gatehouse audit: ${(e as Error).message}\n`);
    return 2;
  }
  const file = values.file ?? cfg.path;

  if (sub === 'verify' && values.bundle) {
    const key = values['public-key'] ?? process.env.GATEHOUSE_AUDIT_PUBLIC_KEY ?? cfg.signingKey ?? null;
    let bundle: unknown;
    try {
      bundle = JSON.parse(readFileSync(values.bundle, 'utf8'));
    } catch (e) {
      err(`gatehouse audit verify: cannot read bundle ${values.bundle}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 2;
    }
    const v = verifyBundle(bundle, key);
    if (!v.ok) {
      err(`audit verify --bundle FAILED after ${v.records} good records\nfirst bad: ${describeBundleProblem(v)}\n`);
      return 1;
    }
    out(`bundle verify OK: ${v.records} records in ${v.segments} segment(s)${v.signaturesChecked ? `, ${v.sealedSegments} sealed by a verified checkpoint signature` : '; no public key: checkpoint signatures NOT checked (use --public-key)'}\n`);
    if (v.keySource === 'bundle') out('signatures checked with the public key inside the bundle: give your own copy with --public-key to know who signed\n');
    return 0;
  }

  if (sub === 'verify') {
    const key = values['public-key'] ?? process.env.GATEHOUSE_AUDIT_PUBLIC_KEY ?? cfg.signingKey ?? null;
    let r;
    try {
      r = await verifyAudit(file, key);
    } catch (e) {
      err(`gatehouse audit verify: ${(e as Error).message}\n`);
      return 2;
    }
    if (!r.ok) {
      err(`audit verify FAILED after ${r.records} good records\nfirst bad record: ${describeBad(r.firstBad!)}\n`);
      return 1;
    }
    out(`audit verify OK: ${r.records} records in ${r.files.length} file(s), head seq ${r.head.seq}, ${r.checkpoints} checkpoint(s)\n`);
    if (r.signaturesChecked) out(`signatures verified; sealed through seq ${r.sealedThrough}; ${r.unsealed} record(s) after the last checkpoint\n`);
    else out('no public key given: chain checked, checkpoint signatures NOT checked (use --public-key)\n');
    return 0;
  }

  if (sub === 'export' || sub === 'query') {
    const filter: AuditFilter = {};
    try {
      if (values.from) filter.from = parseTime(values.from, '--from');
      if (values.to) filter.to = parseTime(values.to, '--to');
      if (values.limit) {
        if (!/^\d+$/.test(values.limit)) throw new Error(`--limit: '${values.limit}' is not a positive integer`);
        filter.limit = Number(values.limit);
      }
    } catch (e) {
      err(`gatehouse audit ${sub}: ${(e as Error).message}\n`);
      return 2;
    }
    if (sub === 'query') {
      for (const k of ['principal', 'account', 'model', 'action'] as const) if (values[k]) filter[k] = values[k];
    }
    const format = values.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') {
      err(`gatehouse audit ${sub}: --format: '${format}' is not one of jsonl, csv\n`);
      return 2;
    }
    // Streamed record by record (with stdout's backpressure), so exporting a large log needs no memory for it.
    const write = async (line: string) => {
      if (!process.stdout.write(line)) await once(process.stdout, 'drain');
    };
    const limit = filter.limit ?? Infinity;
    let written = 0;
    try {
      if (format === 'csv') await write(CSV_COLUMNS.join(',') + '\n');
      for await (const r of auditRecords(file)) {
        if (!matches(r, filter)) continue;
        if (written >= limit) {
          err(`(more records match; raise --limit)\n`);
          break;
        }
        await write((format === 'csv' ? toCsvRow(r) : canonicalJson(r)) + '\n');
        written++;
      }
    } catch (e) {
      err(`gatehouse audit ${sub}: ${(e as Error).message}\n`);
      return 2;
    }
    return 0;
  }

  if (sub === 'text' || sub === 'purge-text') {
    if (!cfg.retention.enabled) {
      err(`gatehouse audit ${sub}: text retention is off (audit.retention.enabled is false${values.config ? ` in ${values.config}` : '; pass --config'})\n`);
      return 2;
    }
    let vault: TextVault;
    try {
      vault = new TextVault(cfg.retention);
    } catch (e) {
      err(`gatehouse audit ${sub}: ${(e as Error).message}\n`);
      return 2;
    }
    if (sub === 'purge-text') {
      const deleted = await vault.purge();
      out(deleted.length ? `deleted ${deleted.length} day file(s) older than ${cfg.retention.days} days: ${deleted.join(', ')}\n` : `nothing older than ${cfg.retention.days} days\n`);
      return 0;
    }
    const [requestId, ...extra] = positionals;
    if (!requestId || extra.length) {
      err(`gatehouse audit text: give exactly one request id\n${USAGE}`);
      return 2;
    }
    let time: number | undefined;
    try {
      if (values.time) time = parseTime(values.time, '--time');
      const text = await vault.read(requestId, time);
      if (!text) {
        err(`gatehouse audit text: no retained text for request ${requestId} (never retained, or purged after ${cfg.retention.days} days)\n`);
        return 1;
      }
      out(JSON.stringify({ requestId, ...text }, null, 2) + '\n');
      return 0;
    } catch (e) {
      err(`gatehouse audit text: ${(e as Error).message}\n`);
      return 1;
    }
  }

  err(`gatehouse audit: unknown subcommand '${sub}'\n${USAGE}`);
  return 2;
}
