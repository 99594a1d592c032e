import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, AuditUnavailableError } from '../src/audit/log.ts';
import { verifyAudit } from '../src/audit/verify.ts';

async function seed(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const path = join(dir, 'audit.jsonl');
  const log = await AuditLog.open({ path }, { onProblem: () => {} });
  for (let i = 0; i < n; i++) await log.append({ kind: 'system', n: i });
  await log.close();
  return { dir, path, original: readFileSync(path) };
}

test('truncated tail is detected with its offset, quarantined unchanged, and a new segment continues the chain', async () => {
  const { dir, path, original } = await seed(5);
  const goodBytes = original.length;
  appendFileSync(path, '{"kind":"system","n":5,"prevH'); // a torn write
  const torn = readFileSync(path);
  const problems: string[] = [];
  const log = await AuditLog.open({ path }, { onProblem: (m) => problems.push(m) });
  const q = log.startup.quarantined!;
  assert.ok(q, 'quarantined');
  assert.equal(q.bad.offset, goodBytes);
  assert.equal(q.bad.line, 6);
  assert.match(q.bad.reason, /truncated/);
  assert.match(problems.join('\n'), new RegExp(`byte offset ${goodBytes}`));
  // The bad file is kept byte for byte.
  assert.deepEqual(readFileSync(q.file), torn);
  await log.append({ kind: 'system', n: 'after' });
  await log.close();
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].kind, 'segment');
  assert.equal(lines[0].seq, 6);
  assert.equal(lines[0].previous.badOffset, goodBytes);
  const r = await verifyAudit(path);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.records, 5 + 2);
  assert.equal(r.files.length, 2);
  rmSync(dir, { recursive: true });
});

test('a corrupt record in the middle is quarantined at its offset; the chain resumes from the last good record', async () => {
  const { dir, path, original } = await seed(6);
  const lines = original.toString().trimEnd().split('\n');
  lines[3] = lines[3].replace('"n":3', '"n":33');
  writeFileSync(path, lines.join('\n') + '\n');
  const log = await AuditLog.open({ path }, { onProblem: () => {} });
  const q = log.startup.quarantined!;
  assert.equal(q.bad.seq, 4);
  assert.equal(q.bad.offset, lines.slice(0, 3).join('\n').length + 1);
  assert.equal(log.durableHead.seq, 4, 'segment record is seq 4, chained to record 3');
  await log.close();
  assert.equal((await verifyAudit(path)).ok, true);
  // Deleting the quarantined file is itself detected.
  rmSync(q.file);
  const r = await verifyAudit(path);
  assert.equal(r.ok, false);
  assert.match(r.firstBad!.reason, /cannot be read/);
  rmSync(dir, { recursive: true });
});

test('garbage file is quarantined at offset 0, never rewritten', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const path = join(dir, 'audit.jsonl');
  writeFileSync(path, 'this is not an audit log\n');
  const log = await AuditLog.open({ path }, { onProblem: () => {} });
  assert.equal(log.startup.quarantined!.bad.offset, 0);
  assert.equal(readFileSync(log.startup.quarantined!.file, 'utf8'), 'this is not an audit log\n');
  await log.close();
  assert.equal(readdirSync(dir).length, 2);
  rmSync(dir, { recursive: true });
});

const isRoot = process.getuid?.() === 0;

test('unwritable directory: log opens unhealthy, appends reject, and it recovers once writable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const sub = join(dir, 'ro');
  mkdirSync(sub);
  const path = join(sub, 'audit.jsonl');
  if (isRoot) {
    // root ignores permission bits: make the log path a directory instead, which fails with EISDIR on open.
    mkdirSync(path);
  } else chmodSync(sub, 0o500);
  const log = await AuditLog.open({ path, retryIntervalMs: 50 }, { onProblem: () => {} });
  assert.equal(log.healthy, false);
  assert.ok(log.lastError);
  assert.equal(log.readiness().auditOk, false);
  await assert.rejects(log.append({ kind: 'system', n: 1 }), AuditUnavailableError);
  // Make it writable; the retry timer appends a `system` recovery record and flips healthy back.
  if (isRoot) rmSync(path, { recursive: true });
  else chmodSync(sub, 0o700);
  const deadline = Date.now() + 3000;
  while (!log.healthy && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(log.healthy, true);
  await log.append({ kind: 'system', n: 2 });
  await log.close();
  const recs = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs[0].event, 'audit_write_recovered');
  assert.equal((await verifyAudit(path)).ok, true);
  rmSync(dir, { recursive: true });
  t.diagnostic(isRoot ? 'running as root: simulated with EISDIR' : 'simulated with chmod 0500');
});

test('write failure mid-run (ENOSPC-like) rejects pending appends, rewinds the chain and never acknowledges lost records', async () => {
  const { dir, path } = await seed(3);
  const log = await AuditLog.open({ path, retryIntervalMs: 60_000 }, { onProblem: () => {} });
  // Inject a failing file handle write, as a full disk would.
  const fh = (log as unknown as { fh: { write: (...a: unknown[]) => Promise<unknown> } }).fh;
  const realWrite = fh.write.bind(fh);
  fh.write = async () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  const results = await Promise.allSettled([log.append({ kind: 'system', n: 'a' }), log.append({ kind: 'system', n: 'b' })]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(log.healthy, false);
  assert.match(log.lastError!, /ENOSPC/);
  assert.equal(log.durableHead.seq, 3);
  fh.write = realWrite;
  await log.append({ kind: 'system', n: 'c' });
  assert.equal(log.healthy, true);
  await log.close();
  const r = await verifyAudit(path);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.records, 5, 'three old records, c, and the record documenting the outage');
  const last = JSON.parse(readFileSync(path, 'utf8').trimEnd().split('\n').pop()!);
  assert.equal(last.event, 'audit_write_recovered');
  assert.match(last.error, /ENOSPC/);
  assert.ok(!readFileSync(path, 'utf8').includes('"n":"a"'));
  assert.ok(existsSync(path));
  rmSync(dir, { recursive: true });
});

test('large file: only the tail window is verified at start-up, and a bad record there is found at its file offset', async () => {
  const { dir, path, original } = await seed(300);
  assert.ok(original.length > 3 * 4096);
  let log = await AuditLog.open({ path, tailVerifyBytes: 4096 }, { onProblem: () => {} });
  assert.equal(log.startup.quarantined, null);
  assert.equal(log.durableHead.seq, 300);
  assert.ok(log.startup.verifiedRecords < 300, 'verified only the window');
  await log.append({ kind: 'system', n: 300 });
  await log.close();
  assert.equal((await verifyAudit(path)).ok, true);
  // Corrupt record 299.
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const offset = lines.slice(0, 298).reduce((s, l) => s + l.length + 1, 0);
  lines[298] = lines[298].replace('"n":298', '"n":2980');
  writeFileSync(path, lines.join('\n') + '\n');
  log = await AuditLog.open({ path, tailVerifyBytes: 4096 }, { onProblem: () => {} });
  const q = log.startup.quarantined!;
  assert.equal(q.bad.offset, offset);
  assert.equal(q.bad.line, null, 'line numbers are unknown in a tail window');
  assert.equal(q.bad.seq, 299);
  await log.close();
  const r = await verifyAudit(path);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.records, 298 + 1);
  rmSync(dir, { recursive: true });
});

test('one writer per file: a live writer refuses a second open; a dead writer\'s lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const path = join(dir, 'audit.jsonl');
  // A lock held by a live process (this test runner's parent stands in for another gateway).
  writeFileSync(`${path}.lock`, String(process.ppid));
  await assert.rejects(AuditLog.open({ path }, { onProblem: () => {} }), /in use by process \d+/);
  // A lock left by a process that no longer exists (e.g. SIGKILLed) is stale.
  writeFileSync(`${path}.lock`, '999999999');
  const log = await AuditLog.open({ path }, { onProblem: () => {} });
  assert.equal(readFileSync(`${path}.lock`, 'utf8'), String(process.pid));
  await log.append({ kind: 'system', n: 1 });
  await log.close();
  assert.ok(!existsSync(`${path}.lock`), 'lock released on close');
  rmSync(dir, { recursive: true });
});
