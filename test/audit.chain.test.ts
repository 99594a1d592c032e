import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/log.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { hashBody, sealRecord } from '../src/audit/chain.ts';
import { canonicalJson, canonicalJsonWith } from '../src/audit/canonical-json.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function writeLog(n: number, opts: { clock?: () => number; checkpointEvery?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const path = join(dir, 'audit.jsonl');
  const log = await AuditLog.open({ path, signingKey: privPem, checkpointEvery: opts.checkpointEvery ?? 1000 }, { clock: opts.clock, onProblem: () => {} });
  await Promise.all(Array.from({ length: n }, (_, i) => log.append({ kind: 'admin', action: 'key.created', actor: 'test', target: `k${i + 1}` })));
  await log.close();
  return { dir, path, lines: readFileSync(path, 'utf8').split('\n').filter(Boolean) };
}

function lineOffset(lines: string[], index: number): number {
  return lines.slice(0, index).reduce((s, l) => s + Buffer.byteLength(l) + 1, 0);
}

test('a fresh log verifies, checkpoints sign it, canonical JSON is key-order independent', async () => {
  const { dir, path, lines } = await writeLog(25, { checkpointEvery: 10 });
  const r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.records, lines.length);
  assert.ok(r.checkpoints >= 2, `checkpoints ${r.checkpoints}`);
  // close() seals the tail, so nothing is unsealed.
  assert.equal(r.unsealed, 0);
  assert.equal(r.head.seq, lines.length);
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }), '{"a":[2,{"c":2,"d":1}],"b":1}');
  // Integer-like keys take the explicit path: still sorted as strings.
  assert.equal(canonicalJson({ z: { '10': 1, '9': 2, a: null }, u: undefined }), '{"z":{"10":1,"9":2,"a":null}}');
  assert.throws(() => canonicalJson({ x: NaN }), /non-finite/);
  // Chain fields always win over a caller's fields of the same name; unsorted input is sorted.
  assert.equal(canonicalJsonWith({ z: 1, seq: 'forged', a: { y: 1, x: 2 } }, { seq: 7, prevHash: 'p', time: 1 }), '{"a":{"x":2,"y":1},"prevHash":"p","seq":7,"time":1,"z":1}');
  // The hash is the last member of each line.
  assert.match(lines[0], /,"hash":"[0-9a-f]{64}"\}$/);
  rmSync(dir, { recursive: true });
});

test('edited record is detected and named (seq, line, offset)', async () => {
  const { dir, path, lines } = await writeLog(10);
  const edited = [...lines];
  edited[4] = edited[4].replace('"target":"k5"', '"target":"kX"');
  writeFileSync(path, edited.join('\n') + '\n');
  const r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad!.seq, 5);
  assert.equal(r.firstBad!.line, 5);
  assert.equal(r.firstBad!.offset, lineOffset(lines, 4));
  assert.match(r.firstBad!.reason, /edited/);
  rmSync(dir, { recursive: true });
});

test('deleted record is detected at the record after the gap', async () => {
  const { dir, path, lines } = await writeLog(10);
  writeFileSync(path, [...lines.slice(0, 3), ...lines.slice(4)].join('\n') + '\n');
  const r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad!.seq, 5);
  assert.equal(r.firstBad!.expectedSeq, 4);
  assert.equal(r.firstBad!.line, 4);
  assert.match(r.firstBad!.reason, /deleted/);
  rmSync(dir, { recursive: true });
});

test('reordered records are detected at the first out-of-place record', async () => {
  const { dir, path, lines } = await writeLog(10);
  const swapped = [...lines];
  [swapped[5], swapped[6]] = [swapped[6], swapped[5]];
  writeFileSync(path, swapped.join('\n') + '\n');
  const r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad!.line, 6);
  assert.equal(r.firstBad!.seq, 7);
  assert.equal(r.firstBad!.offset, lineOffset(swapped, 5));
  rmSync(dir, { recursive: true });
});

test('inserted records are detected, even when the forger re-hashes them well', async () => {
  const { dir, path, lines } = await writeLog(10);
  // A duplicate line inserted.
  const dup = [...lines.slice(0, 3), lines[2], ...lines.slice(3)];
  writeFileSync(path, dup.join('\n') + '\n');
  let r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad!.line, 4);
  assert.match(r.firstBad!.reason, /reordered or inserted/);

  // A well-formed forged record chained onto record 3: seq 4 but it displaces the real seq 4.
  const prev = JSON.parse(lines[2]);
  const forged = sealRecord({ kind: 'admin', action: 'key.revoked', actor: 'mallory', seq: 4, prevHash: prev.hash, time: prev.time }).line.trimEnd();
  writeFileSync(path, [...lines.slice(0, 3), forged, ...lines.slice(3)].join('\n') + '\n');
  r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad!.line, 5, r.firstBad!.reason);
  assert.equal(r.firstBad!.seq, 4);
  rmSync(dir, { recursive: true });
});

test('a full re-hash after an edit passes the chain but fails the signed checkpoint', async () => {
  const { dir, path, lines } = await writeLog(6);
  // Rewrite record 2 and re-hash everything after it, keeping the (now stale) checkpoint signature.
  const recs = lines.map((l) => JSON.parse(l));
  recs[1].target = 'forged';
  let prevHash = recs[0].hash;
  const out = [lines[0]];
  for (let i = 1; i < recs.length; i++) {
    const { hash: _h, ...body } = recs[i];
    body.prevHash = prevHash;
    if (body.kind === 'checkpoint') body.sealedHash = prevHash;
    const sealed = sealRecord(body);
    assert.equal(sealed.hash, hashBody(body));
    out.push(sealed.line.trimEnd());
    prevHash = sealed.hash;
  }
  writeFileSync(path, out.join('\n') + '\n');
  const noKey = await verifyAudit(path);
  assert.equal(noKey.ok, true, 'without the key only the chain is checked');
  const withKey = await verifyAudit(path, pubPem);
  assert.equal(withKey.ok, false);
  assert.equal(withKey.firstBad!.seq, 7);
  assert.match(withKey.firstBad!.reason, /signature/);
  rmSync(dir, { recursive: true });
});

test('clock stepping backwards does not break the chain (order is by seq)', async () => {
  let t = 2_000_000_000_000;
  const steps = [0, 5000, -3_600_000, 10, -86_400_000, 1];
  let i = 0;
  const { dir, path, lines } = await writeLog(6, { clock: () => (t += steps[i++ % steps.length]) });
  const times = lines.map((l) => JSON.parse(l).time as number);
  assert.ok(times.some((x, k) => k > 0 && x < times[k - 1]), 'clock did step backwards');
  const r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  rmSync(dir, { recursive: true });
});

test('many concurrent appends are all durable, in seq order, sharing few fsyncs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const path = join(dir, 'audit.jsonl');
  const log = await AuditLog.open({ path }, { onProblem: () => {} });
  await Promise.all(Array.from({ length: 2000 }, (_, i) => log.append({ kind: 'system', n: i })));
  assert.equal(log.durableHead.seq, 2000);
  assert.ok(log.stats.fsyncs <= 20, `2000 concurrent appends took ${log.stats.fsyncs} fsyncs`);
  await log.close();
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 2000);
  assert.deepEqual(lines.map((l) => JSON.parse(l).n), Array.from({ length: 2000 }, (_, i) => i));
  assert.equal((await verifyAudit(path)).ok, true);
  rmSync(dir, { recursive: true });
});

test('reopening continues the chain', async () => {
  const { dir, path } = await writeLog(5);
  const log = await AuditLog.open({ path, signingKey: privPem }, { onProblem: () => {} });
  assert.equal(log.startup.quarantined, null);
  await log.append({ kind: 'admin', action: 'config.reloaded', actor: 'test' });
  await log.close();
  const r = await verifyAudit(path, pubPem);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.records, 5 + 1 /*close checkpoint*/ + 1 + 1);
  rmSync(dir, { recursive: true });
});

test('a record that cannot be encoded is rejected without advancing the chain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-'));
  const path = join(dir, 'audit.jsonl');
  const log = await AuditLog.open({ path }, { onProblem: () => {} });
  await assert.rejects(log.append({ kind: 'request', costUsd: NaN }), /cannot be encoded: .*non-finite/);
  await log.append({ kind: 'system', ok: true });
  assert.equal(log.durableHead.seq, 1);
  await log.close();
  assert.equal((await verifyAudit(path)).ok, true);
  rmSync(dir, { recursive: true });
});
