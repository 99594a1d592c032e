/**
 * Once the gateway has taken the reply over from the HTTP framework, nothing else would answer for it: any
 * exception on the request path must still give the caller a protocol-correct error, a log line with the request id
 * and an audit record — never a hang. Also: a request nested thousands of levels deep inside tool-call arguments
 * (which used to overflow the stack after the reply was taken over) gets an answer, a log line and a record.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { DurableSink, RequestGate } from '../src/core/gates.ts';
import type { Principal, RequestEvent } from '../src/core/types.ts';
import { Gateway } from '../src/server/gateway.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir, writeConfig } from './support/config.ts';

const PRINCIPAL: Principal = { keyId: 'k1', accountId: 'a1', orgId: null, nationalities: ['US'], residence: 'US', kyc: 'basic', programmes: [], tier: 'general', staff: false };

describe('an exception on the request path', () => {
  let gw: Gateway;
  const lines: Record<string, any>[] = [];
  const records: RequestEvent[] = [];
  let failOn = '';
  before(async () => {
    const dir = tempDir();
    const configPath = writeConfig(dir, {
      server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
      providers: { sim: { type: 'simulator', replyTokens: 4 } },
      models: [{ name: 'm', provider: 'sim', upstreamModel: 'x' }],
    });
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _e, cb) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          cb();
        },
      }),
    );
    // A gate with a bug, and a fingerprint with a bug: both run after the reply was taken over.
    const buggy: RequestGate = {
      name: 'buggy',
      check(input) {
        if (failOn === 'gate') throw new TypeError('gate bug');
        if (failOn === 'async-gate') return Promise.reject(new Error('async gate bug'));
        void input;
        return { action: 'allow' };
      },
    };
    const durable: DurableSink = {
      healthy: true,
      wantsText: false,
      append: async (ev) => {
        records.push(ev);
      },
    };
    gw = await Gateway.start(
      { configPath, port: 0, logger },
      {
        keys: { lookup: (s) => (s === 'good' ? { ok: true, principal: PRINCIPAL } : { ok: false, reason: 'unknown' }) },
        gates: () => [buggy],
        durable: () => durable,
        fingerprint: () => {
          if (failOn === 'fingerprint') throw new RangeError('Maximum call stack size exceeded');
          return {};
        },
      },
    );
  });
  after(() => gw.close());

  for (const where of ['gate', 'async-gate', 'fingerprint']) {
    for (const protocol of ['openai', 'anthropic'] as const) {
      for (const stream of [false, true]) {
        test(`${where} throws (${protocol}, stream=${stream}): 500 in the caller's format, a log line, an audit record`, async () => {
          failOn = where;
          const url = protocol === 'openai' ? `${gw.url}/v1/chat/completions` : `${gw.url}/v1/messages`;
          const body = protocol === 'openai' ? { model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] } : { model: 'm', max_tokens: 8, stream, messages: [{ role: 'user', content: 'hi' }] };
          const res = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer good', 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
          assert.equal(res.status, 500);
          const json = (await res.json()) as any;
          const id = res.headers.get('x-request-id')!;
          assert.ok(id);
          if (protocol === 'openai') {
            assert.equal(json.error.type, 'server_error');
            assert.equal(json.error.code, 'internal_error');
          } else {
            assert.equal(json.type, 'error');
            assert.equal(json.error.type, 'api_error');
          }
          assert.match(json.error.message, new RegExp(id));
          const line = lines.find((l) => l.requestId === id && l.msg === 'request failed unexpectedly');
          assert.ok(line, 'log line with the request id');
          assert.ok(lines.some((l) => l.requestId === id && l.msg === 'request' && l.status === 500), 'request log line');
          const rec = records.find((r) => r.requestId === id);
          assert.ok(rec, 'audit record');
          assert.equal(rec.outcome, 'internal_error');
          assert.equal(rec.status, 500);
          failOn = '';
        });
      }
    }
  }
});

/** JSON text nested `depth` levels deep: {"a":{"a":…}} (built as text: JSON.stringify itself would overflow). */
const DEEP = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
const withDeep = (template: unknown) => JSON.stringify(template).replace('"__DEEP__"', DEEP);

describe('a request nested thousands of levels deep in tool-call arguments', () => {
  let h: Harness;
  let auditPath: string;
  before(async () => {
    auditPath = join(tempDir(), 'audit', 'audit.jsonl');
    h = await startHarness({ backend: 'sqlite', extra: { audit: { path: auditPath }, abuse: { enabled: true, degradedModel: 'lite' }, server: { host: '127.0.0.1', port: 0, logLevel: 'info', bodyLimitBytes: 1024 * 1024 } } });
  });
  after(() => h.close());

  const cases = {
    'openai tool_calls[].function.arguments': {
      url: '/v1/chat/completions',
      body: { model: 'frontier', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '__DEEP__' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }] },
    },
    'anthropic tool_use.input': {
      url: '/v1/messages',
      body: { model: 'frontier', max_tokens: 8, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: '__DEEP__' }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] }] },
    },
  };
  for (const [name, c] of Object.entries(cases)) {
    test(`${name}: an error answer in the caller's format, a log line and an audit record, no hang`, async () => {
      const res = await fetch(`${h.url}${c.url}`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: withDeep(c.body), signal: AbortSignal.timeout(10_000) });
      assert.ok(res.status === 400 || res.status === 500, `status ${res.status}`);
      const json = (await res.json()) as any;
      assert.ok(json.error?.message, JSON.stringify(json).slice(0, 300));
      const id = res.headers.get('x-request-id')!;
      assert.ok(id);
      assert.ok(h.logLines().some((l) => l.requestId === id), 'a log line with the request id');
      const rec = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).find((r) => r.requestId === id);
      assert.ok(rec, 'audit record');
      assert.equal(rec.status, res.status);
    });
  }
});
