/**
 * Evidence bundles: an incident linked to requests served by a real gateway whose audit log is signed, exported
 * with the CLI, verified offline (`gatehouse audit verify --bundle`) without the log; an altered bundle fails naming
 * the first bad record; a wrong key, a removed line and a forged claim fail too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBundle, describeBundleProblem } from '../src/audit/bundle.ts';
import { run as incidentsCli } from '../src/incidents/cli.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const keys = generateKeyPairSync('ed25519');
const privPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pubPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

function gatehouse(args: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'gatehouse.mjs'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout + err.stderr };
  }
}

describe('incident evidence bundles', () => {
  let h: Harness;
  let dir: string;
  let auditPath: string;
  let bundlePath: string;
  const requestIds: string[] = [];
  let incidentId = '';

  before(async () => {
    dir = tempDir('gatehouse-bundle-');
    auditPath = join(dir, 'audit.jsonl');
    h = await startHarness({ backend: 'sqlite', extra: { audit: { path: auditPath, signingKey: privPem, checkpointEvery: 4, checkpointIntervalMs: 100 } } });
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: `Hello ${i}` }] }) });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      requestIds.push(r.headers.get('x-request-id')!);
    }
    let out = '';
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (out += s), env: {} };
    assert.equal(await incidentsCli(['incidents', 'open', '--store', h.storeUrl, '--title', 'Suspicious extraction', '--severity', 'high', '--by', 'alice', '--request', requestIds[1]!, '--request', requestIds[4]!, '--json'], io), 0, out);
    incidentId = JSON.parse(out).incident.id;
    assert.equal(await incidentsCli(['incidents', 'transition', incidentId, '--store', h.storeUrl, '--to', 'investigating', '--by', 'bob', '--why', 'triage'], io), 0, out);
    // The CLI's changes reach the gateway's log through the audit inbox; then a checkpoint seals them (100 ms).
    for (let i = 0; i < 200; i++) {
      const lines = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      let changes = -1;
      lines.forEach((r: any, i: number) => {
        if (r.kind === 'admin' && r.target === incidentId && r.action === 'incident.transitioned') changes = i;
      });
      if (changes >= 0 && lines.slice(changes).some((r) => r.kind === 'checkpoint')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    bundlePath = join(dir, 'bundle.json');
    out = '';
    assert.equal(await incidentsCli(['incidents', 'export', incidentId, '--store', h.storeUrl, '--config', h.configPath, '--out', bundlePath, '--by', 'carol'], io), 0, out);
    assert.match(out, /wrote .*bundle\.json: \d+ segment\(s\), \d+ audit records/);
  });
  after(async () => {
    await h?.close();
  });

  test('verifies offline with the log’s public key, and holds what it claims', () => {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
    assert.deepEqual(bundle.claims.requestIds, [requestIds[1], requestIds[4]]);
    assert.deepEqual(bundle.claims.adminTargets, [incidentId]);
    assert.equal(bundle.context.incident.id, incidentId);
    assert.deepEqual(bundle.context.timeline.map((e: any) => e.to), ['open', 'investigating']);
    assert.ok(!JSON.stringify(bundle).includes('Hello 1'), 'no prompt text');
    // Only the runs needed: not the whole log.
    const total = readFileSync(auditPath, 'utf8').trim().split('\n').length;
    const inBundle = bundle.segments.reduce((n: number, s: any) => n + s.lines.length, 0);
    assert.ok(inBundle < total, `${inBundle} of ${total}`);
    const v = verifyBundle(bundle, pubPem);
    assert.equal(v.ok, true, describeBundleProblem(v));
    assert.equal(v.sealedSegments, v.segments);
    assert.equal(v.keySource, 'given');
    const pubFile = join(dir, 'audit-public.pem');
    writeFileSync(pubFile, pubPem);
    const cli = gatehouse(['audit', 'verify', '--bundle', bundlePath, '--public-key', pubFile]);
    assert.equal(cli.code, 0, cli.out);
    assert.match(cli.out, /bundle verify OK: \d+ records in \d+ segment\(s\), \d+ sealed by a verified checkpoint signature/);
  });

  test('an altered bundle fails, naming the first bad record', () => {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8'));
    const seg = bundle.segments.findIndex((s: any) => s.lines.some((l: string) => l.includes(requestIds[4]!)));
    const line = bundle.segments[seg].lines.findIndex((l: string) => l.includes(requestIds[4]!));
    const seq = JSON.parse(bundle.segments[seg].lines[line]).seq;
    const edited = structuredClone(bundle);
    edited.segments[seg].lines[line] = edited.segments[seg].lines[line].replace('"status":200', '"status":403');
    const altered = join(dir, 'altered.json');
    writeFileSync(altered, JSON.stringify(edited));
    const cli = gatehouse(['audit', 'verify', '--bundle', altered, `--public-key=${pubPem}`]);
    assert.equal(cli.code, 1);
    assert.match(cli.out, new RegExp(`first bad: segment ${seg + 1}, line ${line + 1} \\(record seq ${seq}\\): hash does not match the record content`));

    const removed = structuredClone(bundle);
    removed.segments[seg].lines.splice(line, 1);
    const r = verifyBundle(removed, pubPem);
    assert.equal(r.ok, false);
    assert.match(describeBundleProblem(r), /seq gap|prevHash|records claimed but not in the bundle/);

    const wrongKey = verifyBundle(bundle, other);
    assert.match(describeBundleProblem(wrongKey), /checkpoint signature does not verify/);

    const forged = structuredClone(bundle);
    forged.claims.requestIds.push('req-not-there');
    assert.match(describeBundleProblem(verifyBundle(forged, pubPem)), /records claimed but not in the bundle: req-not-there/);

    // A re-hashed edit (the attacker recomputes the hash) breaks the chain or the checkpoint signature instead.
    const resigned = structuredClone(bundle);
    const rec = JSON.parse(resigned.segments[seg].lines[line]);
    rec.status = 403;
    delete rec.hash;
    resigned.segments[seg].lines[line] = JSON.stringify(rec);
    assert.equal(verifyBundle(resigned, pubPem).ok, false);

    assert.match(describeBundleProblem(verifyBundle({ format: 'zip' })), /not an evidence bundle/);
  });
});
