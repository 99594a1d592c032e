/**
 * A safeguard stage failing open opens an incident: a guard-model cascade stage that cannot be reached, for a label
 * whose fail mode is open, lets the request through (200); its event and audit record name the failed stage
 * (`failedOpen`), one incident `safeguard-fail-open:classifier` is opened and later such requests link to it. The same
 * stage failing closed refuses with 503 `classifier_unavailable` and opens the fail-closed incident instead. With an
 * audit log, both are recorded (a failed stage leaves no score, and the record leaves the label out).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { IncidentRepository } from '../src/incidents/repository.ts';
import { openDb } from '../src/store/open.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

async function until<T>(get: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

// A guard stage nobody answers (port 1 refuses connections), consulted for every request (band [0, 1]).
const deadGuard = { type: 'guard', name: 'guard-down', baseUrl: 'http://127.0.0.1:1/v1', model: 'llama-guard-3-8b', format: 'llama-guard-3', labels: ['violent-crimes'], band: [0, 1], timeoutMs: 500 };

describe('safeguard stage failing open or closed', () => {
  let open: Harness;
  let closed: Harness;
  let auditPath: string;
  let closedAuditPath: string;
  before(async () => {
    auditPath = join(tempDir(), 'audit', 'audit.jsonl');
    closedAuditPath = join(tempDir(), 'audit', 'audit.jsonl');
    open = await startHarness({
      backend: 'sqlite',
      extra: {
        classify: { model: 'default', tiers: { general: { 'violent-crimes': { action: 'refuse', threshold: 0.9, failMode: 'open' } } }, cascade: [deadGuard] },
        audit: { path: auditPath },
      },
    });
    closed = await startHarness({
      backend: 'sqlite',
      extra: { classify: { model: 'default', tiers: { general: { 'violent-crimes': { action: 'refuse', threshold: 0.9, failMode: 'closed' } } }, cascade: [deadGuard] }, audit: { path: closedAuditPath } },
    });
  });
  after(async () => {
    await open?.close();
    await closed?.close();
  });

  test('fail open: served, failedOpen recorded, one incident with later requests linked', async () => {
    const client = new OpenAI({ apiKey: open.keys.valid, baseURL: `${open.url}/v1`, maxRetries: 0 });
    const first = await client.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
    assert.equal(first.response.status, 200);
    const db = await openDb(open.storeUrl);
    try {
      const repo = new IncidentRepository(db);
      const inc = await until(async () => (await repo.list()).find((i) => i.trigger === 'safeguard-fail-open'));
      assert.equal(inc.state, 'open');
      assert.equal(inc.severity, 'high');
      assert.deepEqual(inc.models, ['frontier']);
      assert.ok(inc.principals.includes('account:acct-test'));
      const requestId = first.response.headers.get('x-request-id');
      assert.ok(requestId);
      assert.deepEqual(inc.requestIds, [requestId]);

      await client.chat.completions.create({ model: 'lite', messages: [{ role: 'user', content: 'And of Spain?' }] });
      const linked = await until(async () => {
        const i = await repo.get(inc.id);
        return i && i.requestIds.length === 2 ? i : undefined;
      });
      assert.equal((await repo.list()).filter((i) => i.trigger === 'safeguard-fail-open').length, 1);
      assert.ok(linked.models.includes('lite'));
      const timeline = await repo.timelineOf(inc.id);
      assert.match(JSON.stringify(timeline[0]), /guard-down: /);

      const records = await until(async () => {
        const rs = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.kind === 'request');
        return rs.length >= 2 ? rs : undefined;
      });
      const rec = records.find((r) => r.requestId === requestId)!;
      assert.equal(rec.outcome, 'ok');
      assert.equal(rec.failedOpen.length, 1);
      assert.match(rec.failedOpen[0], /^guard-down: /);
      assert.equal(records.filter((r) => r.failedOpen).length, 2);
    } finally {
      await db.close();
    }
  });

  test('fail closed: refused 503 classifier_unavailable, the fail-closed incident and no fail-open one', async () => {
    const client = new OpenAI({ apiKey: closed.keys.valid, baseURL: `${closed.url}/v1`, maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'What is the capital of France?' }] }), (err: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(err.status, 503);
      assert.equal((err.error as { code?: string }).code, 'classifier_unavailable');
      return true;
    });
    const db = await openDb(closed.storeUrl);
    try {
      const repo = new IncidentRepository(db);
      await until(async () => (await repo.list()).find((i) => i.trigger === 'safeguard-failure'));
      assert.equal((await repo.list()).filter((i) => i.trigger === 'safeguard-fail-open').length, 0);
      // The record is written (the failed stage's label has no score, so it is left out of `labels`).
      const rec = await until(async () => readFileSync(closedAuditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).find((r) => r.kind === 'request'));
      assert.equal(rec.code, 'classifier_unavailable');
      assert.equal(rec.failedOpen, undefined);
      assert.equal('violent-crimes' in rec.labels, false);
    } finally {
      await db.close();
    }
  });
});
