/**
 * Client strings are echoed in bounded form: an unknown model name (or a huge unknown field) is truncated before it
 * reaches the response, the log line, metrics and the audit record; requests without a valid key or for an unknown
 * model make no usage rows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDb } from '../src/store/open.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const HUGE = 'm'.repeat(60_000);

describe('bounded echo of client strings', () => {
  let h: Harness;
  let auditPath: string;
  before(async () => {
    auditPath = join(tempDir(), 'audit', 'audit.jsonl');
    h = await startHarness({ backend: 'sqlite', extra: { audit: { path: auditPath }, meter: { flushIntervalMs: 50 } } });
  });
  after(() => h.close());

  const post = (path: string, body: unknown, key: string | null = h.keys.valid) =>
    fetch(`${h.url}${path}`, { method: 'POST', headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('an unknown huge model name is truncated in the response, log, metrics and audit record', async () => {
    for (const [path, body] of [
      ['/v1/chat/completions', { model: HUGE, messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/messages', { model: HUGE, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 404);
      const text = await res.text();
      assert.ok(text.length < 1000, `response of ${text.length} chars`);
      assert.match(text, /60000 chars/);
      const id = res.headers.get('x-request-id')!;
      const line = h.logLines().find((l) => l.requestId === id && l.msg === 'request');
      assert.ok(line);
      assert.ok(JSON.stringify(line).length < 1000, 'log line bounded');
      const rec = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).find((r) => r.requestId === id);
      assert.ok(rec);
      assert.ok(rec.modelRequested.length <= 200, `audit modelRequested of ${rec.modelRequested.length} chars`);
    }
    // A model name that fails validation (wrong type elsewhere) is bounded too.
    const res = await post('/v1/chat/completions', { model: HUGE, messages: 'not a list' });
    assert.equal(res.status, 400);
    assert.ok((await res.text()).length < 1000);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.ok(!metrics.includes('m'.repeat(200)), 'no unbounded label in metrics');
  });

  test('a huge unknown field or value is bounded in the error message', async () => {
    const res = await post('/v1/chat/completions', { model: 'frontier', messages: [{ role: HUGE, content: 'hi' }] });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.ok(text.length < 1000, `response of ${text.length} chars`);
  });

  test('unauthenticated and unknown-model requests make no usage rows', async () => {
    await post('/v1/chat/completions', { model: 'frontier', messages: [{ role: 'user', content: 'hi' }] }, null);
    await post('/v1/chat/completions', { model: 'frontier', messages: [{ role: 'user', content: 'hi' }] }, 'sk-not-a-key');
    await post('/v1/chat/completions', { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
    const ok = await post('/v1/chat/completions', { model: 'frontier', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ok.status, 200);
    const db = await openDb(h.storeUrl);
    try {
      let rows: Array<{ model: string; key_id: string }> = [];
      for (let i = 0; i < 100 && !rows.some((r) => r.model === 'frontier'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        rows = await db.query<{ model: string; key_id: string }>('SELECT model, key_id FROM meter_usage_daily');
      }
      assert.deepEqual([...new Set(rows.map((r) => r.model))].sort(), ['frontier'], JSON.stringify(rows));
      assert.ok(rows.every((r) => r.key_id !== ''), 'no row without a key');
    } finally {
      await db.close();
    }
  });
});
