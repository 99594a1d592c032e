/**
 * Gateway-level crash test: `gatehouse serve` (the real command, with a durable audit section in its config and the
 * in-process simulator as upstream) serves concurrent streaming and non-streaming requests; the test SIGKILLs it
 * under load three times. After each kill the log is reopened as a restart does (quarantining a torn tail), the
 * chain must verify, and every request whose complete response a client received must have its audit record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/log.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { KeyRepository } from '../src/identity/keys.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb } from '../src/store/testing.ts';
import { tempDir, writeConfig } from './support/config.ts';
import { serve } from './support/process.ts';

/** Fires requests from 24 workers until `target` completed, then calls onEnough; returns the completed request ids. */
async function load(url: string, key: string, target: number, onEnough: () => void): Promise<Set<string>> {
  const done = new Set<string>();
  let stop = false;
  const deadline = Date.now() + 30_000;
  const worker = async (w: number) => {
    for (let i = 0; !stop && Date.now() < deadline; i++) {
      const stream = (w + i) % 2 === 0;
      try {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
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
        if (stop) return; // the connection died with the gateway: that request never completed
      }
    }
  };
  await Promise.all(Array.from({ length: 24 }, (_, w) => worker(w)));
  return done;
}

test('gatehouse serve SIGKILLed under load three times: every completed request is audited, the chain verifies after each restart', { timeout: 120_000 }, async (t) => {
  const store = await openTestDb('sqlite', ALL_MIGRATIONS);
  const key = (await new KeyRepository(store.db).create({ accountId: 'acct-crash', nationalities: ['US'] })).secret;
  const dir = tempDir('gh-audit-e2e-');
  const auditPath = join(dir, 'audit', 'audit.jsonl');
  const configPath = writeConfig(dir, {
    server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
    store: { url: store.url },
    providers: { sim: { type: 'simulator', replyTokens: 8 } },
    models: [{ name: 'sim-model', provider: 'sim', upstreamModel: 'sim-1', pricing: { inputPerMTok: 1, outputPerMTok: 2 } }],
    audit: { path: auditPath },
  });
  const completed = new Set<string>();
  try {
    for (let run = 0; run < 3; run++) {
      const gw = await serve(configPath);
      const exited = new Promise<NodeJS.Signals | null>((r) => gw.proc.once('exit', (_c, s) => r(s)));
      const ids = await load(gw.url, key, 120 + 60 * run, () => gw.proc.kill("SIGKILL"));
      assert.ok(ids.size >= 120 + 60 * run, `run ${run + 1}: only ${ids.size} requests completed:\n${gw.output().slice(-2000)}`);
      assert.equal(await exited, 'SIGKILL');
      for (const id of ids) completed.add(id);
      // Restart as the gateway does (this quarantines a torn tail), then verify everything so far.
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
  } finally {
    await store.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
