/**
 * Mutation fuzzing of both ingress APIs and the admin API: valid requests with one or two fields replaced by values of the wrong
 * type, out of range, deeply nested, huge, empty, or removed, plus random extra fields, sent to the running
 * gateway. Every answer must be a success or a 4xx error in the caller's own protocol format — never a 5xx, a
 * malformed error body, a dropped connection or a hang — and the gateway must still serve afterwards.
 * Seeded, so a failure names a reproducible case.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDb } from '../src/store/open.ts';
import { tempDir } from './support/config.ts';
import { startHarness, type Harness } from './support/harness.ts';

const CASES_PER_PROTOCOL = 400;

/** Mulberry32: small, seeded, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, '', ' ', 'x'.repeat(5000), '\u0000', '\ud800', '🙂'.repeat(50),
  [], [null], [[[]]], {}, { role: 'user' }, { type: 'text' }, { type: 'image', source: {} }, { type: 'tool_use' }, { type: 'tool_result', content: {} },
  [{ type: 'text', text: 5 }], [{ role: 'system' }], '<script>', 'NaN', { $ref: '#' }, { __proto__: { polluted: true } },
];

/** A fresh copy each time: a later mutation may write into it, and must not change the table or make a cycle. */
const weird = (r: () => number) => structuredClone(WEIRD[Math.floor(r() * WEIRD.length)]);

function nest(depth: number): unknown {
  let v: unknown = 'deep';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { content: v };
  return v;
}

/** Every path (as key arrays) to a value inside `v`. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function mutate(base: unknown, r: () => number): unknown {
  const doc = structuredClone(base) as Record<string, unknown>;
  const all = paths(doc).filter((p) => p.length > 0);
  const rounds = 1 + Math.floor(r() * 2);
  for (let n = 0; n < rounds; n++) {
    const p = all[Math.floor(r() * all.length)]!;
    let parent: any = doc;
    for (const k of p.slice(0, -1)) parent = parent?.[k];
    if (!parent || typeof parent !== 'object') continue;
    const last = p[p.length - 1]!;
    const pick = r();
    if (pick < 0.15) delete parent[last];
    else if (pick < 0.25) parent[last] = nest(50 + Math.floor(r() * 200));
    else if (pick < 0.3) parent[`extra_${Math.floor(r() * 1000)}`] = weird(r);
    else parent[last] = weird(r);
  }
  return doc;
}

const BASES = {
  openai: [
    { model: 'frontier', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi' }] },
    { model: 'frontier', stream: true, stream_options: { include_usage: true }, max_tokens: 20, temperature: 0.5, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
    {
      model: 'lite', messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'wx', arguments: '{"city":"Oslo"}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'rain' }],
      tools: [{ type: 'function', function: { name: 'wx', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }], tool_choice: 'auto',
    },
  ],
  anthropic: [
    { model: 'frontier', max_tokens: 20, system: 'Be terse.', messages: [{ role: 'user', content: 'hi' }] },
    { model: 'frontier', max_tokens: 20, stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stop_sequences: ['\n\n'], temperature: 0.2 },
    {
      model: 'lite', max_tokens: 50, tools: [{ name: 'wx', description: 'weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }], tool_choice: { type: 'auto' },
      messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'wx', input: { city: 'Oslo' } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'rain' }] }],
    },
  ],
} as const;

const ADMIN_TOKEN = 'admin-token-for-fuzzing';

/** Admin API bodies that succeed as given; ids are dropped by most mutations' luck, so duplicates are rare. */
const ADMIN_BASES: { method: string; path: string; body: Record<string, unknown> }[] = [
  { method: 'POST', path: '/admin/v1/keys', body: { accountId: 'fuzz-acct', orgId: 'fuzz-org', nationalities: ['US', 'GB'], residence: 'US', kyc: 'basic', programmes: ['critical-infrastructure-defenders'], tier: 'general', staff: false, label: 'fuzz', accountCreatedAt: 1_700_000_000_000, paymentFingerprint: 'card-1' } },
  { method: 'POST', path: '/admin/v1/directives', body: { models: ['frontier'], population: { nationality: { noneOf: ['US'] } }, effect: 'suspend', authority: 'Fuzz authority', reference: 'F-1', by: 'fuzzer', why: 'fuzzing' } },
  { method: 'POST', path: '/admin/v1/licences', body: { licensee: { org: 'labco' }, models: ['frontier'], nationalities: ['group:ear-d1'], validFrom: '2026-01-01T00:00:00Z', validTo: '2030-01-01T00:00:00Z', reference: 'D-1', authority: 'BIS', by: 'ops' } },
  { method: 'POST', path: '/admin/v1/policy/explain', body: { principal: { accountId: 'a', nationalities: ['CN'], kyc: 'basic' }, model: 'frontier' } },
];

describe('fuzzed requests against both ingress APIs and the admin API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
  });
  after(() => h.close());

  for (const protocol of ['openai', 'anthropic'] as const) {
    test(`${protocol}: ${CASES_PER_PROTOCOL} mutated requests get a success or a 4xx in ${protocol}'s error format`, { timeout: 120_000 }, async () => {
      const r = rng(protocol === 'openai' ? 1234 : 5678);
      const path = protocol === 'openai' ? '/v1/chat/completions' : '/v1/messages';
      const statuses = new Map<number, number>();
      for (let i = 0; i < CASES_PER_PROTOCOL; i++) {
        const base = BASES[protocol][i % BASES[protocol].length];
        const body = JSON.stringify(mutate(base, r));
        const res = await fetch(`${h.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.valid}`, 'anthropic-version': '2023-06-01' },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const where = `case ${i} (${protocol}, seed-determined): ${body.slice(0, 300)}`;
        assert.ok(res.status < 500, `${res.status} for ${where}: ${text.slice(0, 300)}`);
        if (res.status >= 400) {
          const err = JSON.parse(text) as Record<string, any>;
          if (protocol === 'openai') {
            assert.equal(typeof err.error?.message, 'string', where);
            assert.equal(typeof err.error?.type, 'string', where);
          } else {
            assert.equal(err.type, 'error', where);
            assert.equal(typeof err.error?.type, 'string', where);
            assert.equal(typeof err.error?.message, 'string', where);
          }
        } else if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
          assert.ok(text.length > 0, where);
        } else {
          JSON.parse(text);
        }
      }
      // The mutations must actually exercise both sides, or the test proves little.
      assert.ok((statuses.get(200) ?? 0) > 20, `successes: ${JSON.stringify([...statuses])}`);
      assert.ok((statuses.get(400) ?? 0) > 100, `rejections: ${JSON.stringify([...statuses])}`);
      // Still serving.
      const ok = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.valid}` }, body: JSON.stringify(BASES[protocol][0]) });
      assert.equal(ok.status, 200);
    });
  }

  test(`admin API: ${CASES_PER_PROTOCOL} mutated bodies get a success or a 4xx with {error: {type, message}}`, { timeout: 120_000 }, async () => {
    const r = rng(4242);
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES_PER_PROTOCOL; i++) {
      const base = ADMIN_BASES[i % ADMIN_BASES.length]!;
      const body = JSON.stringify(mutate(base.body, r));
      const res = await fetch(`${h.url}${base.path}`, {
        method: base.method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `case ${i} ${base.method} ${base.path}: ${body.slice(0, 300)}`;
      assert.ok(res.status < 500, `${res.status} for ${where}: ${text.slice(0, 300)}`);
      if (res.status >= 400) {
        const err = JSON.parse(text) as Record<string, any>;
        assert.equal(typeof err.error?.type, 'string', where);
        assert.equal(typeof err.error?.message, 'string', where);
      }
    }
    assert.ok((statuses.get(400) ?? 0) > 100, JSON.stringify([...statuses]));
    assert.ok([...statuses].reduce((n, [s, c]) => n + (s < 300 ? c : 0), 0) >= 10, `successes: ${JSON.stringify([...statuses])}`);
  });
});

/** A time field nested `depth` levels deep: objects and arrays around an ISO string. */
function deepTime(depth: number): unknown {
  let v: unknown = '2026-01-01T00:00:00Z';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { at: v };
  return v;
}

describe('admin API: bad times, nested times and unexpected failures', () => {
  let h: Harness;
  before(async () => {
    const dir = tempDir();
    h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
      extra: { audit: { path: join(dir, 'audit.log'), retention: { enabled: true, key: randomBytes(32).toString('base64'), days: 7, dir: join(dir, 'text') } } },
    });
  });
  after(() => h.close());

  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${h.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    return { res, json: JSON.parse(await res.text()) as { error?: { type: string; message: string } } };
  };

  const directive = ADMIN_BASES[1]!.body;
  const licence = ADMIN_BASES[2]!.body;
  // Built as text: the deepest values are beyond what JSON.stringify (recursive) can write.
  const withValue = (base: Record<string, unknown>, field: string, valueText: string) => JSON.stringify({ ...base, [field]: '@@' }).replace('"@@"', valueText);
  const deepText = (levels: number) => '{"at":['.repeat(levels) + '"2026-01-01T00:00:00Z"' + ']}'.repeat(levels);
  const TIME_VALUES: [string, string][] = [
    ['nested 40 levels', JSON.stringify(deepTime(40))],
    ['nested 5,000 levels', deepText(2500)],
    ['epoch past the end of time', '99999999999999999'],
    ['1e308', '1e308'],
    ['negative', '-1'],
    ['a huge string', JSON.stringify('9'.repeat(20_000))],
  ];

  for (const [what, value] of TIME_VALUES) {
    for (const [route, base, fields] of [['/admin/v1/directives', directive, ['effectiveAt', 'expiresAt']], ['/admin/v1/licences', licence, ['validFrom', 'validTo']], ['/admin/v1/policy/explain', ADMIN_BASES[3]!.body, ['at']]] as const) {
      for (const field of fields) {
        test(`POST ${route} with ${field} ${what} → 400 {error: {type, message}}`, async () => {
          const { res, json } = await call('POST', route, withValue(base, field, value));
          assert.equal(res.status, 400, JSON.stringify(json).slice(0, 300));
          assert.equal(typeof json.error?.type, 'string');
          assert.match(json.error!.message, new RegExp(field));
          assert.ok(json.error!.message.length < 2000, 'the message does not echo the whole value');
        });
      }
    }
  }

  for (const [path, param] of [['/admin/v1/usage', 'from'], ['/admin/v1/usage', 'to'], ['/admin/v1/audit', 'from'], ['/admin/v1/audit', 'to'], ['/admin/v1/audit/text/some-request', 'time']] as const) {
    for (const value of ['99999999999999999', '8640000000000001', '1'.repeat(400)]) {
      test(`GET ${path}?${param}=${value.slice(0, 20)} (out of range) → 400 naming query.${param}`, async () => {
        const { res, json } = await call('GET', `${path}?${param}=${value}`);
        assert.equal(res.status, 400, JSON.stringify(json).slice(0, 300));
        assert.equal(typeof json.error?.type, 'string');
        assert.match(json.error!.message, new RegExp(`query\\.${param}`));
        assert.match(json.error!.message, /out of range/);
      });
    }
  }

  test('an unexpected admin failure is a 500 {error: {type, message}} naming the request id, which the log line carries', async () => {
    // Break the store under the gateway, from another connection: licence reads now fail for no fault of the caller.
    const other = await openDb(h.storeUrl);
    await other.exec('ALTER TABLE policy_licences RENAME TO policy_licences_moved');
    try {
      const { res, json } = await call('GET', '/admin/v1/licences');
      assert.equal(res.status, 500);
      const requestId = res.headers.get('x-request-id');
      assert.match(requestId ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(json.error?.type, 'internal');
      assert.ok(json.error!.message.includes(requestId!), json.error!.message);
      const line = h.logLines().find((l) => l.requestId === requestId);
      assert.ok(line, 'the failure is logged with its request id');
      assert.equal(line.msg, 'admin request failed');
      assert.match(line.err, /policy_licences/);
    } finally {
      await other.exec('ALTER TABLE policy_licences_moved RENAME TO policy_licences');
      await other.close();
    }
  });

  test('successful admin responses carry x-request-id too, and the admin API still serves', async () => {
    const { res } = await call('GET', '/admin/v1/licences');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
