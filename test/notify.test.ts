/**
 * Outbound notifications against real local HTTP receivers: signed JSON events that verify (and fail when
 * altered), retries after 500s with the same delivery id, give-up after maxAttempts (logged and counted in the
 * metrics), final 4xx, the Slack-compatible payload shape, event filters, the bounded queue, once-per-cluster
 * delivery through the store on SQLite and PostgreSQL, and through a real gateway: directives issued and lifted,
 * an approval waiting under two-person control, incidents opened, the store becoming unreachable, and a dead
 * receiver that never slows a gateway request. The event builders for rings and overdue reports; config checks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { Registry } from 'prom-client';
import type { NotificationEvent } from '../src/core/notify.ts';
import { storeClaims } from '../src/notify/claims.ts';
import { configSchema } from '../src/notify/config.ts';
import { retryDelay, SIGNATURE_HEADER, verifySignature, wants } from '../src/notify/format.ts';
import { Notifier } from '../src/notify/notifier.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { approvalEvent, directiveEvent, incidentOpenedEvent, overdueEvent, ringEvent } from '../src/server/notifications.ts';
import { validateConfigFile } from '../src/server/validate.ts';
import { ConfigError } from '../src/config/load.ts';
import { tempDir, writeConfig } from './support/config.ts';
import { BACKENDS, openTestDb } from '../src/store/testing.ts';
import { startHarness } from './support/harness.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
}

/** A local receiver: `respond(n)` picks the status for the n-th request (0-based); 'hang' never answers. */
async function receiver(respond: (n: number) => number | 'hang' = () => 200): Promise<{ url: string; got: Received[]; hanging: ServerResponse[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const n = got.length;
      got.push({ headers: req.headers, body, json: JSON.parse(body) });
      const r = respond(n);
      if (r === 'hang') return void hanging.push(res);
      res.writeHead(r, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    hanging,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const event = (over: Partial<NotificationEvent> = {}): NotificationEvent => ({
  type: 'incident.opened',
  time: Date.UTC(2026, 11, 1, 12),
  severity: 'critical',
  summary: 'Incident INC-1 opened (critical): audit log problem <segment 3> & more',
  details: { incident: 'INC-1', models: ['frontier', 'lite'], severity: 'critical', nested: { a: 1 } },
  ...over,
});

function hooks(list: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  return configSchema.parse({ webhooks: list, ...extra });
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v ? Number(v.value) : 0;
}

describe('notification delivery', () => {
  test('a signed JSON event verifies with the secret; an altered body, a wrong secret or a stale timestamp do not', async () => {
    const rx = await receiver();
    const n = new Notifier({ config: hooks([{ name: 'soc', url: rx.url, secretEnv: 'X' }]), secrets: { soc: 'whsec-test-1' }, source: 'test:1' });
    try {
      n.publish(event());
      assert.ok(await n.idle());
      assert.equal(rx.got.length, 1);
      const r = rx.got[0]!;
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['gatehouse-event'], 'incident.opened');
      assert.match(String(r.headers['gatehouse-delivery']), /^ntf_[0-9a-f-]{36}$/);
      assert.equal(r.headers['gatehouse-attempt'], '1');
      const sig = String(r.headers[SIGNATURE_HEADER]);
      assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
      const now = Math.floor(Date.now() / 1000);
      assert.equal(verifySignature('whsec-test-1', sig, r.body, now), null);
      assert.equal(verifySignature('whsec-test-1', sig, r.body.replace('INC-1', 'INC-2'), now), 'signature does not match');
      assert.equal(verifySignature('another-secret', sig, r.body, now), 'signature does not match');
      assert.equal(verifySignature('whsec-test-1', sig, r.body, now + 3600), 'timestamp outside the tolerance');
      assert.equal(verifySignature('whsec-test-1', undefined, r.body, now), 'no signature header');
      assert.deepEqual(
        { ...r.json, id: 'x' },
        { id: 'x', type: 'incident.opened', time: '2026-12-01T12:00:00.000Z', severity: 'critical', summary: event().summary, source: 'test:1', details: event().details },
      );
      assert.equal(r.json.id, r.headers['gatehouse-delivery']);
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('500s are retried with backoff (same delivery id, attempt counted) until delivered', async () => {
    const rx = await receiver((i) => (i < 2 ? 500 : 200));
    const registry = new Registry();
    const n = new Notifier({ config: hooks([{ name: 'soc', url: rx.url, initialBackoffMs: 20, maxAttempts: 5 }]), source: 't', registry });
    try {
      n.publish(event());
      await until(() => n.stats().soc!.delivered === 1);
      assert.deepEqual(rx.got.map((g) => g.headers['gatehouse-attempt']), ['1', '2', '3']);
      assert.equal(new Set(rx.got.map((g) => g.headers['gatehouse-delivery'])).size, 1);
      assert.equal(new Set(rx.got.map((g) => g.body)).size, 1);
      assert.equal(await metricValue(registry, 'gatehouse_notification_attempts_total', { webhook: 'soc', result: '5xx' }), 2);
      assert.equal(await metricValue(registry, 'gatehouse_notification_attempts_total', { webhook: 'soc', result: '2xx' }), 1);
      assert.equal(await metricValue(registry, 'gatehouse_notifications_total', { webhook: 'soc', type: 'incident.opened', outcome: 'delivered' }), 1);
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('after maxAttempts failures the event is given up: logged and counted; a 4xx is final at once', async () => {
    const rx = await receiver((i) => (i < 3 ? 503 : 400));
    const registry = new Registry();
    const logs: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const n = new Notifier({ config: hooks([{ name: 'soc', url: rx.url, initialBackoffMs: 5, maxAttempts: 3 }]), source: 't', registry, log: (level, fields, message) => logs.push({ level, fields, message }) });
    try {
      n.publish(event());
      await until(() => n.stats().soc!.gaveUp === 1);
      assert.equal(rx.got.length, 3);
      n.publish(event({ type: 'directive.issued' }));
      await until(() => n.stats().soc!.gaveUp === 2);
      assert.equal(rx.got.length, 4, 'a 400 is not retried');
      const gaveUp = logs.filter((l) => l.message.startsWith('notification given up'));
      assert.equal(gaveUp.length, 2);
      assert.equal(gaveUp[0]!.level, 'warn');
      assert.deepEqual({ webhook: gaveUp[0]!.fields.webhook, attempts: gaveUp[0]!.fields.attempts, lastError: gaveUp[0]!.fields.lastError }, { webhook: 'soc', attempts: 3, lastError: 'HTTP 503' });
      assert.deepEqual({ attempts: gaveUp[1]!.fields.attempts, lastError: gaveUp[1]!.fields.lastError }, { attempts: 1, lastError: 'HTTP 400' });
      assert.equal(await metricValue(registry, 'gatehouse_notifications_total', { webhook: 'soc', type: 'incident.opened', outcome: 'gave_up' }), 1);
      assert.equal(await metricValue(registry, 'gatehouse_notifications_total', { webhook: 'soc', type: 'directive.issued', outcome: 'gave_up' }), 1);
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('a refused connection is retried and given up like a 5xx', async () => {
    const rx = await receiver();
    const url = rx.url;
    await rx.close(); // nothing listens on that port now
    const n = new Notifier({ config: hooks([{ name: 'gone', url, initialBackoffMs: 5, maxAttempts: 2 }]), source: 't' });
    try {
      n.publish(event());
      await until(() => n.stats().gone!.gaveUp === 1);
      assert.equal(n.stats().gone!.attempts, 2);
    } finally {
      await n.close();
    }
  });

  test('slack format: text fallback and Block Kit header, summary, fields and context; mrkdwn escaped', async () => {
    const rx = await receiver();
    const n = new Notifier({ config: hooks([{ name: 'chat', url: rx.url, format: 'slack' }]), source: 'gw-1' });
    try {
      n.publish(event());
      assert.ok(await n.idle());
      const p = rx.got[0]!.json;
      assert.deepEqual(Object.keys(p).sort(), ['blocks', 'text']);
      assert.equal(typeof p.text, 'string');
      assert.match(p.text, /incident\.opened/);
      assert.deepEqual(p.blocks.map((b: { type: string }) => b.type), ['header', 'section', 'section', 'context']);
      assert.deepEqual(p.blocks[0].text, { type: 'plain_text', text: 'Gatehouse: incident.opened', emoji: true });
      assert.equal(p.blocks[1].text.type, 'mrkdwn');
      assert.equal(p.blocks[1].text.text, 'Incident INC-1 opened (critical): audit log problem &lt;segment 3&gt; &amp; more');
      assert.deepEqual(p.blocks[2].fields[1], { type: 'mrkdwn', text: '*models*\nfrontier, lite' });
      assert.ok(p.blocks[2].fields.length <= 10);
      assert.equal(p.blocks[3].elements[0].type, 'mrkdwn');
      assert.match(p.blocks[3].elements[0].text, /^critical · 2026-12-01T12:00:00\.000Z · gw-1 · ntf_/);
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('event filters: exact types, families and *', async () => {
    assert.equal(wants(['*'], 'store.failure'), true);
    assert.equal(wants(['directive.*'], 'directive.lifted'), true);
    assert.equal(wants(['directive.*'], 'incident.opened'), false);
    assert.equal(wants(['incident.overdue', 'ring.detected'], 'ring.detected'), true);
    assert.throws(() => configSchema.parse({ webhooks: [{ name: 'a', url: 'http://x/', events: ['directive.issue'] }] }));
    assert.throws(() => configSchema.parse({ webhooks: [{ name: 'a', url: 'ftp://x/' }] }));
    assert.throws(() => configSchema.parse({ webhooks: [{ name: 'a', url: 'http://x/' }, { name: 'a', url: 'http://y/' }] }), /duplicate webhook name 'a'/);
    const rx = await receiver();
    const n = new Notifier({ config: hooks([{ name: 'dir', url: rx.url, events: ['directive.*'] }]), source: 't' });
    try {
      n.publish(event());
      n.publish(event({ type: 'directive.amended' }));
      assert.ok(await n.idle());
      assert.deepEqual(rx.got.map((g) => g.json.type), ['directive.amended']);
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('backoff doubles from the initial delay up to the cap, jittered between half and all of it; Retry-After is honoured', () => {
    const cfg = { initialBackoffMs: 1000, maxBackoffMs: 60_000 };
    assert.deepEqual([1, 2, 3, 4].map((a) => retryDelay(a, cfg, 1)), [1000, 2000, 4000, 8000]);
    assert.deepEqual([1, 2, 3, 4].map((a) => retryDelay(a, cfg, 0)), [500, 1000, 2000, 4000]);
    assert.equal(retryDelay(30, cfg, 1), 60_000);
    assert.equal(retryDelay(30, cfg, 0), 30_000);
    assert.equal(retryDelay(1, cfg, 0.5, 10_000), 10_000);
    assert.equal(retryDelay(1, cfg, 0.5, 600_000), 60_000);
  });

  test('a full queue drops its oldest event (counted); publish never waits on a receiver that does not answer', async () => {
    const rx = await receiver(() => 'hang');
    const registry = new Registry();
    const n = new Notifier({ config: hooks([{ name: 'slow', url: rx.url, queueSize: 2, concurrency: 1, timeoutMs: 60_000 }]), source: 't', registry, log: () => {} });
    try {
      n.publish(event({ summary: 'first' }));
      await until(() => rx.got.length === 1); // in flight, held by the receiver
      for (let i = 0; i < 5; i++) n.publish(event({ summary: `queued ${i}` }));
      const s = n.stats().slow!;
      assert.deepEqual({ inFlight: s.inFlight, queued: s.queued, dropped: s.dropped }, { inFlight: 1, queued: 2, dropped: 3 });
      assert.equal(await metricValue(registry, 'gatehouse_notifications_total', { webhook: 'slow', type: 'incident.opened', outcome: 'dropped' }), 3);
      assert.equal(await metricValue(registry, 'gatehouse_notifications_queued', { webhook: 'slow' }), 3);
    } finally {
      await n.close(50);
      await rx.close();
    }
  });
});

for (const backend of BACKENDS) {
  test(`an event with a dedupe key is delivered once across replicas sharing the store (${backend})`, async () => {
    const t = await openTestDb(backend, ALL_MIGRATIONS);
    const rx = await receiver();
    const a = new Notifier({ config: hooks([{ name: 'soc', url: rx.url }]), source: 'replica-a', claims: storeClaims(t.db) });
    const b = new Notifier({ config: hooks([{ name: 'soc', url: rx.url }]), source: 'replica-b', claims: storeClaims(t.db) });
    try {
      for (let i = 0; i < 3; i++) {
        a.publish(event({ dedupeKey: 'directive:H-1' }));
        b.publish(event({ dedupeKey: 'directive:H-1' }));
      }
      a.publish(event({ dedupeKey: 'directive:H-2' }));
      b.publish(event({ summary: 'no key: every replica announces it' }));
      a.publish(event({ summary: 'no key: every replica announces it' }));
      assert.ok(await a.idle());
      assert.ok(await b.idle());
      assert.equal(rx.got.length, 4);
      assert.equal(rx.got.filter((g) => g.json.summary.startsWith('no key')).length, 2);
    } finally {
      await a.close();
      await b.close();
      await rx.close();
      await t.cleanup();
    }
  });
}

describe('notifications from a running gateway', () => {
  const ADMIN = 'admin-notify-token';
  let rx: Awaited<ReturnType<typeof receiver>>;
  let chat: Awaited<ReturnType<typeof receiver>>;
  let h: Awaited<ReturnType<typeof startHarness>>;
  before(async () => {
    rx = await receiver();
    chat = await receiver();
    h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN, SOC_HOOK_SECRET: 'whsec-gateway' },
      extra: {
        console: { twoPersonControl: { suspend: true } },
        notifications: {
          webhooks: [
            { name: 'soc', url: rx.url, secretEnv: 'SOC_HOOK_SECRET', events: ['directive.*', 'approval.waiting', 'incident.opened'] },
            { name: 'chat', url: chat.url, format: 'slack', events: ['approval.waiting'] },
          ],
        },
      },
      storePollIntervalMs: 50,
    });
  });
  after(async () => {
    await h?.close();
    await rx?.close();
    await chat?.close();
  });

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  };

  test('directives issued and lifted, and a suspension held for approval, reach the webhooks signed', async () => {
    const issued = await admin('POST', '/directives', { id: 'D-N1', models: ['frontier'], population: { nationalities: { anyOf: ['KP'] } }, effect: 'require-licence', authority: 'BIS', reference: 'Order 9', by: 'alice', why: 'export order' });
    assert.equal(issued.status, 201, issued.text);
    await until(() => rx.got.some((g) => g.json.type === 'directive.issued'));
    const lifted = await admin('POST', '/directives/D-N1/lift', { by: 'bob', why: 'order withdrawn' });
    assert.equal(lifted.status, 200, lifted.text);
    await until(() => rx.got.some((g) => g.json.type === 'directive.lifted'));
    const held = await admin('POST', '/directives', { models: ['frontier'], population: { nationalities: { anyOf: ['IR'] } }, effect: 'suspend', authority: 'BIS', reference: 'Order 10', by: 'alice', why: 'embargo' });
    assert.equal(held.status, 202, held.text);
    const approvalId = held.json().approval.id as string;
    await until(() => rx.got.some((g) => g.json.type === 'approval.waiting') && chat.got.length === 1);

    const now = Math.floor(Date.now() / 1000);
    for (const g of rx.got) assert.equal(verifySignature('whsec-gateway', g.headers[SIGNATURE_HEADER] as string, g.body, now), null);
    const iss = rx.got.find((g) => g.json.type === 'directive.issued')!.json;
    assert.equal(iss.details.directive, 'D-N1');
    assert.equal(iss.details.effect, 'require-licence');
    assert.deepEqual(iss.details.models, ['frontier']);
    assert.equal(iss.severity, 'warning');
    const lift = rx.got.find((g) => g.json.type === 'directive.lifted')!.json;
    assert.equal(lift.details.why, 'order withdrawn');
    const wait = rx.got.find((g) => g.json.type === 'approval.waiting')!.json;
    assert.equal(wait.details.approval, approvalId);
    assert.equal(wait.details.requestedBy, 'admin-api');
    assert.equal(chat.got[0]!.headers[SIGNATURE_HEADER], undefined, 'no secret, no signature');
    assert.match(chat.got[0]!.json.text, /approval\.waiting/);
    assert.ok(Array.isArray(chat.got[0]!.json.blocks));
    // Each change announced once, though the change feed fires repeatedly.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.got.filter((g) => g.json.type === 'directive.issued').length, 1);
    assert.equal(rx.got.filter((g) => g.json.type === 'directive.lifted').length, 1);
  });

  test('incidents opened by hand are announced', async () => {
    const opened = await admin('POST', '/incidents', { title: 'Uplift seen on frontier', severity: 'critical', by: 'carol' });
    assert.equal(opened.status, 201, opened.text);
    const id = opened.json().incident.id as string;
    await until(() => rx.got.some((g) => g.json.type === 'incident.opened' && g.json.details.incident === id));
    const ev = rx.got.find((g) => g.json.type === 'incident.opened' && g.json.details.incident === id)!.json;
    assert.equal(ev.severity, 'critical');
    assert.match(ev.summary, /Uplift seen on frontier/);
    // The directive issued above under an authority opened an incident through its trigger: announced too.
    assert.ok(rx.got.some((g) => g.json.type === 'incident.opened' && g.json.details.trigger === 'directive-issued' && g.json.details.directives.includes('D-N1')));
  });
});

test('a receiver that never answers does not hold up gateway requests', async () => {
  const ADMIN = 'admin-dead-token';
  const dead = await receiver(() => 'hang');
  const h = await startHarness({
    backend: 'sqlite',
    env: { GATEHOUSE_ADMIN_TOKEN: ADMIN },
    extra: { notifications: { webhooks: [{ name: 'dead', url: dead.url, timeoutMs: 120_000, queueSize: 3, concurrency: 1 }] } },
    storePollIntervalMs: 50,
  });
  try {
    const admin = (body: unknown) => fetch(`${h.url}/admin/v1/incidents`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < 6; i++) assert.equal((await admin({ title: `incident ${i}`, severity: 'low', by: 'dave' })).status, 201);
    await until(() => dead.got.length === 1); // the first delivery is held open by the receiver
    const client = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    for (let i = 0; i < 5; i++) {
      const r = await client.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: `hello ${i}` }] });
      assert.equal(r.choices[0]!.finish_reason, 'stop');
    }
    const stream = await client.chat.completions.create({ model: 'frontier', stream: true, messages: [{ role: 'user', content: 'stream please' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    assert.ok(text.length > 0);
    // All of that was served while the receiver still held the first delivery unanswered.
    assert.equal(dead.hanging.length, 1);
    assert.equal(dead.hanging[0]!.writableEnded, false);
    // Six events for a queue of three behind one held delivery: some are dropped. Each event is claimed in the store
    // (dedupe) before it is queued, so the last ones may be queued after the requests above: wait for the drop.
    const dropped = /gatehouse_notifications_total\{webhook="dead",type="incident\.opened",outcome="dropped"\} [1-9]/;
    let metrics = '';
    const end = Date.now() + 10_000;
    while (!dropped.test((metrics = await (await fetch(`${h.url}/metrics`)).text())) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(metrics, dropped);
  } finally {
    await h.close();
    await dead.close();
  }
});

describe('events from their sources', () => {
  test('rings are announced from the configured level up, once per ring and action', () => {
    const a = { accountId: 'acct-1', ringId: 'ring-9', previous: 'flag', next: 'degrade', score: 0.93, reasons: ['shared prompt shape', 'same /24'] };
    assert.equal(ringEvent(a, 'suspend', 1), null);
    assert.equal(ringEvent({ ...a, ringId: null }, 'flag', 1), null);
    const e = ringEvent(a, 'degrade', 1)!;
    assert.deepEqual({ type: e.type, severity: e.severity, dedupeKey: e.dedupeKey }, { type: 'ring.detected', severity: 'warning', dedupeKey: 'ring:ring-9:degrade' });
    assert.equal(e.details.action, 'degrade');
    assert.equal(ringEvent({ ...a, next: 'suspend' }, 'flag', 1)!.severity, 'critical');
    assert.equal(ringEvent({ ...a, next: 'none' }, 'flag', 1), null);
  });

  test('directive, incident, overdue and approval events name what happened and dedupe per change', () => {
    const after = { id: 'D-1', models: ['frontier'], population: { nationalities: { anyOf: ['KP'] } }, effect: 'suspend', effectiveAt: 0, expiresAt: null, authority: 'BIS', reference: 'Order 1', status: 'active', issuedAt: 0, issuedBy: 'alice', updatedAt: 0, liftedAt: null } as const;
    const d = directiveEvent({ id: 'h-7', directiveId: 'D-1', action: 'amend', at: 5, by: 'bob', why: 'widen', before: null, after: after as any });
    assert.deepEqual({ type: d.type, dedupeKey: d.dedupeKey, time: d.time }, { type: 'directive.amended', dedupeKey: 'directive:h-7', time: 5 });
    assert.match(d.summary, /Directive D-1 amended by bob: suspend on frontier \(BIS, Order 1\)/);
    const inc = { id: 'inc_1', title: 'T', severity: 'critical', trigger: 'manual', openedAt: 9, openedBy: 'carol', models: [], principals: [], rings: [], directives: [] } as any;
    const i = incidentOpenedEvent(inc);
    assert.deepEqual({ type: i.type, severity: i.severity, dedupeKey: i.dedupeKey }, { type: 'incident.opened', severity: 'critical', dedupeKey: 'incident:inc_1:opened' });
    const o = overdueEvent(inc, { regime: 'ny-raise', rule: 'default', within: '72h', dueAt: 0, timeLeftMs: -3_600_000 } as any, 'report', 'late!', 10);
    assert.deepEqual({ type: o.type, dedupeKey: o.dedupeKey, overdueMs: o.details.overdueMs }, { type: 'incident.overdue', dedupeKey: 'overdue:inc_1:ny-raise:report', overdueMs: 3_600_000 });
    const w = approvalEvent('apr_1', 'alice', { kind: 'directive.issue', effect: 'suspend', models: ['frontier'] }, 3);
    assert.equal(w.summary, 'Approval apr_1 waits for a second operator: directive.issue suspend on frontier requested by alice');
  });

  test('a webhook secret variable that is not set is a config error at its path', async () => {
    const dir = tempDir();
    const file = writeConfig(dir, { store: { url: 'sqlite::memory:' }, providers: { sim: { type: 'simulator' } }, models: [{ name: 'm', provider: 'sim', upstreamModel: 'm' }], notifications: { webhooks: [{ name: 'soc', url: 'http://127.0.0.1:9/hook', secretEnv: 'GH_TEST_UNSET_SECRET' }] } });
    await assert.rejects(validateConfigFile(file, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(String((err as Error).message), /notifications\.webhooks(\[0\]|\.0)\.secretEnv: environment variable GH_TEST_UNSET_SECRET \(the signing secret of webhook soc\) is not set/);
      return true;
    });
    await validateConfigFile(file, { GH_TEST_UNSET_SECRET: 'set' });
  });
});

test('a replica whose store becomes unreachable announces it (PostgreSQL behind a cut TCP proxy)', async () => {
  const rx = await receiver();
  const sockets = new Set<net.Socket>();
  const listen = async (at: number) => {
    const server = net.createServer((client) => {
      const upstream = net.connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(at, '127.0.0.1', r));
    return server;
  };
  let proxy = await listen(0);
  const port = (proxy.address() as AddressInfo).port;
  const h = await startHarness({
    backend: 'postgres',
    gatewayStoreUrl: (url) => url.replace(/127\.0\.0\.1:5432|localhost:5432/, `127.0.0.1:${port}`),
    extra: { notifications: { webhooks: [{ name: 'ops', url: rx.url, events: ['store.failure', 'audit.failure'] }] } },
  });
  try {
    assert.equal(rx.got.length, 0);
    const closed = new Promise<void>((r) => proxy.close(() => r()));
    for (const s of sockets) s.resetAndDestroy();
    await closed;
    await until(() => rx.got.length >= 1, 15_000);
    const e = rx.got[0]!.json;
    assert.equal(e.type, 'store.failure');
    assert.equal(e.severity, 'critical');
    assert.equal(e.details.dialect, 'postgres');
    assert.match(e.summary, /Store unreachable from /);
    // Announced when it becomes unreachable, not on every failed probe.
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(rx.got.length, 1);
  } finally {
    // The store comes back before the gateway closes (closing waits on its pool).
    if (!proxy.listening) proxy = await listen(port);
    await h.close();
    const closed = new Promise<void>((r) => proxy.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
    await rx.close();
  }
});
