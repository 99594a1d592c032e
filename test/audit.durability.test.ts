/**
 * Crash durability: a child process appends records as fast as it can (many in flight), printing each record's
 * id only after append() resolved. The parent SIGKILLs it mid-stream, several times over the same file, and
 * checks that every acknowledged record is in the file and that the chain verifies after each restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog } from '../src/audit/log.ts';
import { verifyAudit } from '../src/audit/verify.ts';

const CHILD = process.env.GH_AUDIT_CHILD;

if (CHILD) {
  const [path, run, key, rotateBytes] = CHILD.split('|');
  const log = await AuditLog.open({ path, signingKey: key, checkpointEvery: 100, ...(rotateBytes ? { rotateBytes: Number(rotateBytes) } : {}) }, { onProblem: (m) => process.stderr.write(m + '\n') });
  process.stdout.write(`ready ${log.startup.quarantined ? 'quarantined' : 'clean'}\n`);
  let n = 0;
  const worker = async () => {
    for (;;) {
      const id = `${run}-${n++}`;
      await log.append({ kind: 'request', requestId: id });
      process.stdout.write(id + '\n');
    }
  };
  for (let i = 0; i < 64; i++) void worker();
} else {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privB64 = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  function runUntilKilled(path: string, run: number, ackTarget: number, rotateBytes = 0): Promise<Set<string>> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
        env: { ...process.env, GH_AUDIT_CHILD: `${path}|${run}|${privB64}|${rotateBytes || ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const acked = new Set<string>();
      let buf = '';
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.startsWith('ready')) acked.add(line);
        }
        if (acked.size >= ackTarget && !child.killed) child.kill('SIGKILL');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (_code, signal) => {
        clearTimeout(timer);
        if (signal !== 'SIGKILL') reject(new Error(`child exited without SIGKILL: ${stderr}`));
        else if (acked.size === 0) reject(new Error(`child acknowledged nothing: ${stderr}`));
        else resolve(acked);
      });
    });
  }

  for (const rotateBytes of [0, 32 * 1024]) test(`every append that resolved survives SIGKILL; the chain verifies after each restart${rotateBytes ? ' (rotating every 32 KiB)' : ''}`, { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-audit-crash-'));
    const path = join(dir, 'audit.jsonl');
    const allAcked = new Set<string>();
    for (let run = 0; run < 3; run++) {
      const acked = await runUntilKilled(path, run, 1500 + run * 700, rotateBytes);
      for (const id of acked) allAcked.add(id);
      // Re-open as a restart would (quarantining a torn tail if the kill left one), then verify everything.
      const log = await AuditLog.open({ path }, { onProblem: () => {} });
      await log.close();
      const r = await verifyAudit(path, pubPem);
      assert.equal(r.ok, true, `after kill ${run}: ${JSON.stringify(r.firstBad)}`);
      const ids = new Set<string>();
      for (const file of r.files) {
        for (const l of readFileSync(file, 'utf8').split('\n')) {
          const m = /"requestId":"([^"]+)"/.exec(l);
          if (m) ids.add(m[1]);
        }
      }
      const missing = [...allAcked].filter((id) => !ids.has(id));
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged records missing after kill ${run}; verified files ${r.files.join(', ')}; in the directory: ${readdirSync(dir).join(', ')}`);
    }
    assert.ok(allAcked.size >= 1500 * 3);
    if (rotateBytes) assert.ok(readdirSync(dir).filter((f) => /Z-\d+$/.test(f)).length >= 10, 'the runs rotated many times');
    rmSync(dir, { recursive: true });
  });
}
