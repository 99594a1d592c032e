/**
 * Gateway-level crash test: a real gateway process (Gateway.start with the audit log as its durable sink and the
 * in-process simulator as upstream) serves concurrent streaming and non-streaming requests; the test SIGKILLs it
 * under load three times. After each kill the log is reopened as a restart would (quarantining a torn tail), the
 * chain must verify, and every request whose complete response a client received must have its audit record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog } from '../src/audit/log.ts';
import { verifyAudit } from '../src/audit/verify.ts';

const CHILD = process.env.GH_AUDIT_E2E_CHILD;
const KEY = 'gh_test_crash_e2e_key';

if (CHILD) {
  const { configPath, auditPath } = JSON.parse(CHILD) as { configPath: string; auditPath: string };
  const { Gateway } = await import('../src/server/gateway.ts');
  const { auditDurableSink, auditReadiness } = await import('../src/audit/sink.ts');
  const log = await AuditLog.open({ path: auditPath }, { onProblem: (m) => process.stderr.write(m + '\n') });
  const durable = auditDurableSink(log);
  const principal = { keyId: 'key_e2e', accountId: 'acct_e2e', orgId: null, nationalities: [], residence: null, kyc: 'none' as const, programmes: [], tier: 'general', staff: false };
  const gw = await Gateway.start(
    { configPath, port: 0, host: '127.0.0.1' },
    {
      keys: { lookup: (s: string | undefined) => (s === KEY ? { ok: true as const, principal } : { ok: false as const, reason: s ? ('unknown' as const) : ('missing' as const) }) },
      durable: () => durable,
      refuseWhenUnaudited: true,
      readiness: () => [auditReadiness(log)],
    },
  );
  process.stdout.write(`listening ${gw.url}\n`);
} else {
  function startGateway(configPath: string, auditPath: string): Promise<{ child: ChildProcess; url: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
        env: { ...process.env, GH_AUDIT_E2E_CHILD: JSON.stringify({ configPath, auditPath }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /listening (\S+)/.exec(out);
        if (m) resolve({ child, url: m[1] });
      });
      child.on('exit', (code) => reject(new Error(`gateway exited (${code}) before listening: ${err}`)));
    });
  }

  /** Fires requests with `concurrency` workers until `target` completed; returns the ids of completed requests. */
  async function load(url: string, target: number, onEnough: () => void): Promise<Set<string>> {
    const done = new Set<string>();
    let stop = false;
    const deadline = Date.now() + 20_000;
    const worker = async (w: number) => {
      for (let i = 0; !stop && Date.now() < deadline; i++) {
        const stream = (w + i) % 2 === 0;
        try {
          const res = await fetch(`${url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'sim-model', stream, messages: [{ role: 'user', content: `crash test ${w}-${i}` }] }),
          });
          const body = await res.text();
          const complete = res.status === 200 && (stream ? body.includes('data: [DONE]') : JSON.parse(body).choices?.length === 1);
          const id = res.headers.get('x-request-id');
          if (complete && id) done.add(id);
          if (done.size >= target && !stop) {
            stop = true;
            onEnough();
          }
        } catch {
          if (stop) return; // connection died with the gateway: that request never completed
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, (_, w) => worker(w)));
    return done;
  }

  test('SIGKILL under load, three times: every completed request is audited and the chain verifies after each restart', { timeout: 90_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-audit-e2e-'));
    const configPath = join(dir, 'gatehouse.yaml');
    const auditPath = join(dir, 'audit', 'audit.jsonl');
    writeFileSync(
      configPath,
      [
        'server: { logLevel: silent }',
        'providers:',
        '  sim: { type: simulator, replyTokens: 8 }',
        'models:',
        '  - { name: sim-model, provider: sim, upstreamModel: sim-1, pricing: { inputPerMTok: 1, outputPerMTok: 2 } }',
        '',
      ].join('\n'),
    );
    const completed = new Set<string>();
    for (let run = 0; run < 3; run++) {
      const { child, url } = await startGateway(configPath, auditPath);
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
      const ids = await load(url, 200 + 100 * run, () => child.kill('SIGKILL'));
      assert.equal(await exited, 'SIGKILL');
      for (const id of ids) completed.add(id);
      // Restart as the gateway would (this quarantines a torn tail), then verify everything so far.
      const log = await AuditLog.open({ path: auditPath }, { onProblem: (m) => t.diagnostic(m) });
      await log.close();
      const r = await verifyAudit(auditPath);
      assert.equal(r.ok, true, `after kill ${run + 1}: ${JSON.stringify(r.firstBad)}`);
      const audited = new Set<string>();
      for (const file of r.files) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          const m = /"requestId":"([^"]+)"/.exec(line);
          if (m) audited.add(m[1]);
        }
      }
      const missing = [...completed].filter((id) => !audited.has(id));
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} completed requests have no audit record after kill ${run + 1}`);
      t.diagnostic(`kill ${run + 1}: ${ids.size} completed this run, ${audited.size} audited in total, ${r.files.length} file(s)`);
    }
    rmSync(dir, { recursive: true });
  });
}
