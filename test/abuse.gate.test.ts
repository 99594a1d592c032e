import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerAbuseAdminRoutes } from '../src/abuse/admin-routes.ts';
import type { Analysis, MemberInfo } from '../src/abuse/cluster.ts';
import { abuseConfig } from '../src/abuse/config.ts';
import { AbuseGate, actionForScore } from '../src/abuse/gate.ts';
import { AbuseService } from '../src/abuse/service.ts';
import { simulate } from '../src/abuse/simulate.ts';
import type { AbuseActionRecord, IncidentCandidate, Ring } from '../src/abuse/types.ts';

const cfg = abuseConfig({ degradedModel: 'small-model', kycUrl: 'https://example.test/verify' });
const member = (ringScore: number, over: Partial<MemberInfo> = {}): MemberInfo => ({ ringId: 'ring-x', ringScore, suspicion: 0.6, strong: true, kyc: 'none', ...over });
const analysis = (members: Record<string, MemberInfo>): Analysis => ({ rings: [], members: new Map(Object.entries(members)), suspects: 0 });

test('score thresholds map to actions in order', () => {
  const t = cfg.thresholds;
  assert.equal(actionForScore(t.flag - 0.01, t), 'none');
  assert.equal(actionForScore(t.flag, t), 'flag');
  assert.equal(actionForScore(t.requireKyc, t), 'require-kyc');
  assert.equal(actionForScore(t.degrade, t), 'degrade');
  assert.equal(actionForScore(1, t), 'suspend');
  assert.throws(() => abuseConfig({ thresholds: { flag: 0.9, suspend: 0.5 } }), /flag <= requireKyc/);
});

test('verdicts per action; verified accounts capped unless the evidence is strong; a verified org ring escalated to review; O(1) allow for others', () => {
  const records: AbuseActionRecord[] = [];
  const gate = new AbuseGate(cfg, (r) => records.push(r), () => 1234);
  gate.apply(analysis({
    f: member(0.35),
    k: member(0.5),
    d: member(0.65),
    s: member(0.9),
    v: member(0.5, { kyc: 'verified-organisation' }),
    V: member(0.9, { kyc: 'verified-organisation' }),
    r: member(0.27, { kyc: 'verified-organisation', review: true }),
    n: member(0.27, { kyc: 'verified-organisation' }),
    w: member(0.9, { strong: false }),
  }));
  assert.deepEqual(gate.check({ accountId: 'nobody' }), { action: 'allow' });
  assert.equal(gate.check({ accountId: 'f' }).action, 'allow');
  const k = gate.check({ accountId: 'k', kyc: 'none' });
  assert.equal(k.action, 'refuse');
  if (k.action === 'refuse') {
    assert.equal(k.status, 403);
    assert.equal(k.code, 'abuse_kyc_required');
    assert.match(k.message, /https:\/\/example\.test\/verify/);
    assert.deepEqual(k.requires, ['kyc:verified-identity']);
    assert.equal(k.ref?.ring, 'ring-x');
  }
  assert.equal(gate.check({ accountId: 'k', kyc: 'verified-identity' }).action, 'allow');
  const d = gate.check({ accountId: 'd' });
  assert.ok(d.action === 'route' && d.model === 'small-model' && d.code === 'abuse_degraded');
  const s = gate.check({ accountId: 's' });
  assert.ok(s.action === 'refuse' && s.code === 'abuse_suspended' && s.status === 403);
  assert.equal(gate.actionOf('v')?.action, 'flag');
  assert.match(gate.actionOf('v')!.reasons.join(' '), /verified-organisation: capped/);
  // KYC lowers the prior (in the ring score) but never caps strong evidence.
  assert.equal(gate.actionOf('V')?.action, 'suspend');
  assert.match(gate.actionOf('V')!.reasons.join(' '), /strong.*not capped/);
  // A verified organisation behaving like a ring is reviewed even below the flag band; without review it is not.
  assert.equal(gate.actionOf('r')?.action, 'flag');
  assert.match(gate.actionOf('r')!.reasons.join(' '), /escalated to human review/);
  assert.equal(gate.actionOf('n'), undefined);
  assert.equal(gate.actionOf('w')?.action, 'flag');
  assert.equal(records.length, 8);
  assert.ok(records.every((r) => r.kind === 'admin' && r.action === 'abuse.action' && r.time === 1234 && r.previous === 'none'));

  // Re-applying the same analysis emits nothing; a change emits exactly the changes.
  records.length = 0;
  gate.apply(analysis({ f: member(0.35), k: member(0.5), d: member(0.65), s: member(0.9), v: member(0.5, { kyc: 'verified-organisation' }), V: member(0.9, { kyc: 'verified-organisation' }), r: member(0.27, { kyc: 'verified-organisation', review: true }), w: member(0.9, { strong: false }) }));
  assert.equal(records.length, 0);
  gate.apply(analysis({ s: member(0.5) }));
  const changes = Object.fromEntries(records.map((r) => [r.accountId, `${r.previous}->${r.next}`]));
  assert.deepEqual(changes, { s: 'suspend->require-kyc', f: 'flag->none', k: 'require-kyc->none', d: 'degrade->none', v: 'flag->none', V: 'suspend->none', r: 'flag->none', w: 'flag->none' });
  assert.equal(gate.check({ accountId: 'd' }).action, 'allow');
});

test('service: submit is queued off the hot path, analysis installs verdicts and audit records', async () => {
  const records: AbuseActionRecord[] = [];
  const incidents: IncidentCandidate[] = [];
  const svc = new AbuseService({ batchSize: 1000, flushMs: 5 }, { onAction: (r) => records.push(r), onIncidentCandidate: (c) => incidents.push(c), now: () => Date.UTC(2026, 5, 1) });
  const sim = simulate({ benignAccounts: 1500, benignRequests: 10_000, ringSize: 60, hardNegatives: false, seed: 4, stealth: 0.3 });
  for (const a of sim.accounts) svc.submitAccount(a.meta);
  let n = 0;
  const events = [...sim.events()];
  const c0 = process.cpuUsage();
  for (const e of events) {
    svc.submit(e);
    n++;
  }
  const perSubmitUs = process.cpuUsage(c0).user / n;
  assert.equal(svc.detector.stats().accepted < n, true, 'ingest happens later, not inside submit');
  await new Promise((r) => setTimeout(r, 20));
  await svc.analyseNow();
  assert.equal(svc.detector.stats().accepted, n);
  const ringIds = new Set([...sim.labels()].filter(([, l]) => l === 'ring').map(([id]) => id));
  const ring = svc.rings()[0];
  assert.ok(ring && ring.members.every((m) => ringIds.has(m)));
  const refused = [...ringIds].filter((id) => svc.check({ accountId: id }).action !== 'allow').length;
  assert.ok(refused >= 0.9 * ringIds.size, `${refused} of ${ringIds.size} ring accounts gated`);
  assert.ok(records.length >= refused && records.every((r) => r.action === 'abuse.action'));
  assert.ok(perSubmitUs < 50, `${perSubmitUs} µs per submit`);
  assert.equal(incidents.length, 1);
  assert.equal(incidents[0].ringId, ring.id);
  assert.match(incidents[0].summary, /Suspected ring of \d+ accounts/);
  await svc.analyseNow(); // same ring, same band: not reported again
  assert.equal(incidents.length, 1);
  await svc.stop();
});

test('service restart restores state from the snapshot file and reinstalls verdicts without re-announcing them', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'gh-abuse-'));
  try {
    const snapshotFile = join(dir, 'abuse.json');
    const now = () => Date.UTC(2026, 5, 1);
    const first: AbuseActionRecord[] = [];
    const a = new AbuseService({ snapshotFile }, { onAction: (r) => first.push(r), now });
    await a.start();
    const sim = simulate({ benignAccounts: 800, benignRequests: 5000, ringSize: 40, hardNegatives: false, seed: 8, stealth: 0.3 });
    for (const acc of sim.accounts) a.submitAccount(acc.meta);
    for (const e of sim.events()) a.submit(e);
    await a.analyseNow();
    await a.stop();
    assert.ok(first.length >= 38);
    const second: AbuseActionRecord[] = [];
    const b = new AbuseService({ snapshotFile }, { onAction: (r) => second.push(r), now });
    await b.start();
    assert.equal(second.length, 0);
    for (const r of first) assert.deepEqual(b.check({ accountId: r.accountId }), a.check({ accountId: r.accountId }));
    assert.equal(b.detector.stats().accepted, a.detector.stats().accepted);
    await b.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('admin routes: list, filter, fetch one, explain, account action, precise errors', async () => {
  const ring: Ring = {
    id: 'ring-a', members: ['a', 'b', 'c'], score: 0.8, firstSeen: 1, lastSeen: 2, explainedByOrg: null,
    evidence: [{ signal: 'collective_coverage', strength: 0.9, detail: 'one structure, disjoint items', exampleRequestIds: ['r1'] }],
    links: [{ signal: 'shared_network_prefix', weight: 0.7 }, { signal: 'signup_cohort', weight: 0.3 }],
    timeline: [{ day: '2026-10-05', signedUp: 3, started: 2, lastActive: 0 }],
  };
  const low: Ring = { ...ring, id: 'ring-b', score: 0.2 };
  const app = Fastify();
  const gate = new AbuseGate(cfg);
  gate.apply({ rings: [ring], members: new Map([['a', member(0.8, { ringId: 'ring-a' })]]), suspects: 3 });
  registerAbuseAdminRoutes(app, { rings: () => [ring, low], actionOf: (id) => gate.actionOf(id), stats: () => ({ accepted: 1, skipped: {}, lastSkipDetail: {}, accountsTracked: 3, accountsEvicted: 0, watermark: 0, memoryBoundBytes: 1 }) });
  const list = await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings?minScore=0.5' });
  assert.equal(list.statusCode, 200);
  assert.deepEqual(list.json().rings.map((r: Ring) => r.id), ['ring-a']);
  assert.equal(list.json().rings[0].size, 3);
  const noMembers = await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings?members=false' });
  assert.equal(noMembers.json().rings[0].members, undefined);
  const bad = await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings?limit=0' });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { error: { type: 'invalid_request', message: '$.query.limit: expected an integer from 1 to 1000' } });
  assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings?minScore=abc' })).statusCode, 400);
  const one = await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings/ring-a' });
  assert.equal(one.json().ring.id, 'ring-a');
  const explain = await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings/ring-a/explain' });
  assert.equal(explain.statusCode, 200);
  const text = explain.json().explanation.join('\n');
  assert.match(text, /shared_network_prefix\s+0\.700/);
  assert.match(text, /collective_coverage\s+0\.900\s+one structure, disjoint items\s+e\.g\. r1/);
  assert.match(text, /2026-10-05\s+3 \/\s+2 \/\s+0/);
  assert.match(text, /a \[suspend\]/);
  assert.deepEqual(explain.json().ring.links, ring.links);
  assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings/nope/explain' })).statusCode, 404);
  const missing = await app.inject({ method: 'GET', url: '/admin/v1/abuse/rings/nope' });
  assert.equal(missing.statusCode, 404);
  assert.match(missing.json().error.message, /\$\.params\.id/);
  const acct = await app.inject({ method: 'GET', url: '/admin/v1/abuse/accounts/a' });
  assert.equal(acct.json().action, 'suspend');
  assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/abuse/accounts/zzz' })).json().action, 'none');
  assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/abuse/stats' })).json().accepted, 1);
  await app.close();
});
