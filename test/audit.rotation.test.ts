/**
 * Size-based rotation of the audit log: the chain runs on through `segment` records across rotated files, and
 * verification, query and export see one log. Also the crash window of a rotation (renamed, successor not yet
 * written) and tampering inside a rotated file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/log.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { queryAudit } from '../src/audit/query.ts';

const ROTATE = 8192;
const record = (i: number) => ({ kind: 'request', requestId: `req-${i}`, padding: 'x'.repeat(150) });

test('rotation: files stay near rotateBytes, the chain and queries span them all, tampering in an old file is found', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-rot-'));
  const path = join(dir, 'audit.jsonl');
  // Signed checkpoints every few records: a checkpoint must still seal the record right before it across rotations.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signingKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const log = await AuditLog.open({ path, rotateBytes: ROTATE, signingKey, checkpointEvery: 7 }, { onProblem: () => {} });
  // Concurrent appends: rotation must keep file order = seq order even when batches are in flight.
  await Promise.all(Array.from({ length: 400 }, (_, i) => log.append(record(i))));
  for (let i = 400; i < 500; i++) await log.append(record(i));
  assert.ok(log.stats.rotations >= 8, `rotations: ${log.stats.rotations}`);
  await log.close();

  const rotated = readdirSync(dir).filter((f) => /^audit\.jsonl\.\d{4}-.*Z-\d+$/.test(f));
  assert.equal(rotated.length, log.stats.rotations);
  for (const f of rotated) {
    const size = statSync(join(dir, f)).size;
    assert.ok(size >= ROTATE && size < ROTATE + 400, `${f}: ${size} bytes`);
  }
  const r = await verifyAudit(path, publicKey);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.files.length, rotated.length + 1);
  assert.equal(r.records, 500 + rotated.length + r.checkpoints, 'every record plus one segment record per rotation and the checkpoints');
  assert.ok(r.checkpoints >= 60, `checkpoints: ${r.checkpoints}`);
  const q = await queryAudit(path, { kind: 'request' });
  assert.deepEqual(q.records.map((x) => x.requestId), Array.from({ length: 500 }, (_, i) => `req-${i}`));
  const seqs = (await queryAudit(path, {})).records.map((x) => x.seq as number);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'seq runs 1..n without gaps across files');

  // Edit one record in the middle of a rotated file: verification names that file and record.
  const victim = join(dir, r.files[2]!.split('/').pop()!);
  const lines = readFileSync(victim, 'utf8').split('\n');
  const edited = JSON.parse(lines[3]!);
  edited.requestId = 'req-forged';
  lines[3] = JSON.stringify(edited);
  writeFileSync(victim, lines.join('\n'));
  const bad = await verifyAudit(path);
  assert.equal(bad.ok, false);
  assert.equal(bad.firstBad!.file, victim);
  assert.equal(bad.firstBad!.seq, edited.seq);
  rmSync(dir, { recursive: true });
});

test('a crash between a rotation\'s rename and its segment record: the restart continues the chain from the rotated file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-rot-crash-'));
  const path = join(dir, 'audit.jsonl');
  let log = await AuditLog.open({ path, rotateBytes: ROTATE }, { onProblem: () => {} });
  for (let i = 0; i < 20; i++) await log.append(record(i));
  assert.equal(log.stats.rotations, 0);
  const head = log.durableHead;
  await log.close();
  const closed = readFileSync(path, 'utf8');
  // What the rotation's rename leaves if the process dies right after it: the file aside, no active file.
  renameSync(path, join(dir, `audit.jsonl.2026-11-23T10-00-00-000Z-${head.seq}`));
  log = await AuditLog.open({ path, rotateBytes: ROTATE }, { onProblem: () => {} });
  assert.equal(log.durableHead.seq, head.seq + 1, 'the restart linked the rotated file with a segment record at once');
  await log.close();
  assert.equal((await verifyAudit(path)).records, 21, 'a restart with no appends after it still verifies as one log');
  log = await AuditLog.open({ path, rotateBytes: ROTATE }, { onProblem: () => {} });
  await log.append(record(20));
  await log.close();
  const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!);
  assert.equal(first.kind, 'segment');
  assert.deepEqual([first.previous.file, first.previous.goodBytes], [`audit.jsonl.2026-11-23T10-00-00-000Z-${head.seq}`, Buffer.byteLength(closed)]);
  const r = await verifyAudit(path);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  const ids = (await queryAudit(path, { kind: 'request' })).records.map((x) => x.requestId);
  assert.equal(ids.length, 21);
  assert.equal(readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"kind":"segment"')).length, 1, 'one segment record, not one per restart');
  rmSync(dir, { recursive: true });
});
