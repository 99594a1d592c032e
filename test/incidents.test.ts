/**
 * Incidents: the store records on SQLite and PostgreSQL (workflow, timeline, audit inbox rows attributed to who
 * did it), concurrent transitions on two PostgreSQL connections (exactly one wins), triggers (a refusal burst
 * through a real gateway; moderation stops), regimes as data (deadlines and time left; malformed files refused
 * with file:line:col), the CLI and the admin API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestEvent } from '../src/core/types.ts';
import { run as incidentsCli } from '../src/incidents/cli.ts';
import { checkRegimeIds, deadlinesFor, formatTimeLeft, loadRegimes, parseRegimes, renderReport } from '../src/incidents/regimes.ts';
import { IncidentConflictError, IncidentRepository } from '../src/incidents/repository.ts';
import { IncidentTriggers, triggersConfigSchema } from '../src/incidents/triggers.ts';
import { OverdueWatch, overdueMessage } from '../src/incidents/overdue.ts';
import { Registry } from 'prom-client';
import type { Incident } from '../src/incidents/model.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const regimes = loadRegimes();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

for (const backend of BACKENDS) {
  describe(`incident records (${backend})`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend, ALL_MIGRATIONS);
    });
    after(async () => {
      await t?.cleanup();
    });

    test('open → investigating → reportable → reported → closed, each step in the timeline and the audit inbox', async () => {
      let clock = Date.UTC(2026, 10, 1, 9);
      const repo = new IncidentRepository(t.db, { auditActor: 'cli:alice@host', now: () => clock, validateRegimes: (ids) => checkRegimeIds(regimes, ids) });
      const inc = await repo.open({ title: 'Uplift observed on frontier', severity: 'critical', by: 'alice', models: ['frontier'], principals: ['account:acct-7', 'org:org-2'], requestIds: ['req-1', 'req-2'], rings: ['ring-3'], directives: ['D-1'] });
      assert.equal(inc.state, 'open');
      assert.equal(inc.version, 1);
      const steps: Array<[string, Record<string, unknown>]> = [
        ['investigating', {}],
        ['reportable', { regimes: ['eu-ai-act-art73', 'ny-raise'], facts: ['death'] }],
        ['reported', { reportRef: 'AIO-2026-0042' }],
        ['closed', {}],
      ];
      let version = 1;
      for (const [to, extra] of steps) {
        clock += HOUR;
        const next = await repo.transition(inc.id, { to, by: 'bob', why: `moving to ${to}`, version, ...extra });
        assert.equal(next.state, to);
        assert.equal(next.version, ++version);
      }
      const final = (await repo.get(inc.id))!;
      assert.deepEqual(final.regimes, ['eu-ai-act-art73', 'ny-raise']);
      assert.deepEqual(final.facts, ['death']);
      assert.deepEqual(final.reportRefs, ['AIO-2026-0042']);
      assert.equal(final.reportedAt, Date.UTC(2026, 10, 1, 12));
      assert.equal(final.closedAt, Date.UTC(2026, 10, 1, 13));
      // Reported 3 h after awareness: within EU (10 days, death) and NY (72 h).
      assert.deepEqual(deadlinesFor(final, regimes, clock).map((d) => [d.regime, d.rule, d.status]), [['eu-ai-act-art73', 'death', 'met'], ['ny-raise', 'safety-incident', 'met']]);

      const timeline = await repo.timelineOf(inc.id);
      assert.deepEqual(timeline.map((e) => [e.version, e.action, e.from, e.to, e.by]), [
        [1, 'opened', null, 'open', 'alice'],
        [2, 'transition', 'open', 'investigating', 'bob'],
        [3, 'transition', 'investigating', 'reportable', 'bob'],
        [4, 'transition', 'reportable', 'reported', 'bob'],
        [5, 'transition', 'reported', 'closed', 'bob'],
      ]);
      const inbox = await t.db.query<{ action: string; actor: string; target: string; details: string }>('SELECT action, actor, target, details FROM audit_inbox WHERE target = $1 ORDER BY at, id', [inc.id]);
      assert.deepEqual(inbox.map((r) => r.action), ['incident.opened', 'incident.transitioned', 'incident.transitioned', 'incident.transitioned', 'incident.transitioned']);
      assert.ok(inbox.every((r) => r.actor === 'cli:alice@host'));
      const d = JSON.parse(inbox[2]!.details);
      assert.deepEqual([d.by, d.from, d.to, d.version, d.why, d.regimes], ['bob', 'investigating', 'reportable', 3, 'moving to reportable', ['eu-ai-act-art73', 'ny-raise']]);
    });

    test('transitions the workflow does not allow, stale versions, unknown regimes and bad input are refused', async () => {
      const repo = new IncidentRepository(t.db, { validateRegimes: (ids) => checkRegimeIds(regimes, ids) });
      const inc = await repo.open({ title: 'x', severity: 'low', by: 'a' });
      await assert.rejects(repo.transition(inc.id, { to: 'reported', by: 'a', why: 'skip' }), (e: Error) => e instanceof IncidentConflictError && /cannot go from 'open' to 'reported' \(next: investigating\)/.test(e.message));
      await repo.transition(inc.id, { to: 'investigating', by: 'a', why: 'w' });
      await assert.rejects(repo.transition(inc.id, { to: 'reportable', by: 'a', why: 'w' }), /needs the regimes/);
      await assert.rejects(repo.transition(inc.id, { to: 'reportable', by: 'a', why: 'w', regimes: ['mars-act'] }), /unknown regime 'mars-act'/);
      await assert.rejects(repo.transition(inc.id, { to: 'not-reportable', by: 'a', why: 'w', version: 1 }), (e: Error) => e instanceof IncidentConflictError && /at version 2/.test(e.message));
      await assert.rejects(repo.transition(inc.id, { to: 'closing', by: 'a', why: 'w' }), /to: Invalid option/);
      await assert.rejects(repo.open({ title: '', severity: 'huge', by: 'a', principals: ['bob'] }), (e: Error) => /title must not be empty/.test(e.message) && /severity/.test(e.message) && /principals\[0\]: expected 'account:ID'/.test(e.message));
      await assert.rejects(repo.transition('inc_nope', { to: 'investigating', by: 'a', why: 'w' }), /no incident with id 'inc_nope'/);
    });

    test('moderation stops and refusal bursts open one incident each and link later evidence to it', async () => {
      const repo = new IncidentRepository(t.db);
      const cfg = triggersConfigSchema.parse({ refusalBurst: { threshold: 3, windowMs: 60_000, scopes: ['account'] } });
      const triggers = new IncidentTriggers(repo, cfg);
      const ev = (i: number, over: Partial<RequestEvent>): RequestEvent => ({ requestId: `r${i}`, time: 1_000_000 + i * 1000, keyId: 'k1', accountId: 'acct-m', orgId: 'org-m', protocol: 'openai', stream: true, modelRequested: 'frontier', modelServed: 'frontier', outcome: 'ok', status: 200, inputTokens: 1, outputTokens: 1, usageEstimated: false, costUsd: 0, latencyMs: 1, ...over });
      triggers.sink.onEvent(ev(1, { outcome: 'moderated', code: 'classifier_bio_chem', ref: { classifier: 'bio-chem' } }));
      triggers.sink.onEvent(ev(2, { outcome: 'moderated', code: 'classifier_bio_chem', ref: { classifier: 'bio-chem' } }));
      for (let i = 10; i < 16; i++) triggers.sink.onEvent(ev(i, { outcome: 'refused', status: 403, code: 'classifier_security_offensive', ref: { classifier: 'security-offensive' }, modelServed: null }));
      // A policy refusal is not a harm category; a refusal far outside the window starts a new count.
      triggers.sink.onEvent(ev(20, { outcome: 'refused', status: 403, code: 'policy_deny', ref: { rule: 'r' }, modelServed: null }));
      await triggers.flush();
      const all = (await repo.list()).filter((i) => i.principals.includes('account:acct-m'));
      const mod = all.find((i) => i.trigger === 'moderation-stop')!;
      assert.deepEqual(mod.requestIds, ['r1', 'r2']);
      assert.equal(mod.severity, 'medium');
      assert.equal(mod.version, 2, 'the second stop was linked, not opened anew');
      const burst = all.find((i) => i.trigger === 'refusal-burst')!;
      assert.deepEqual(burst.requestIds, ['r10', 'r11', 'r12', 'r13', 'r14', 'r15']);
      assert.equal(burst.severity, 'high');
      assert.equal(burst.dedupeKey, 'refusal-burst:security-offensive:account:acct-m');
      assert.equal(all.length, 2);
      assert.equal(triggers.opened, 2);
      assert.equal(triggers.linked, 2);
      // Once triaged past investigating, a new burst opens a new incident.
      await repo.transition(burst.id, { to: 'investigating', by: 'a', why: 'w' });
      await repo.transition(burst.id, { to: 'not-reportable', by: 'a', why: 'false positive' });
      for (let i = 30; i < 33; i++) triggers.sink.onEvent(ev(i, { outcome: 'refused', status: 403, code: 'classifier_security_offensive', ref: { classifier: 'security-offensive' }, modelServed: null }));
      await triggers.flush();
      assert.equal((await repo.list()).filter((i) => i.trigger === 'refusal-burst' && i.principals.includes('account:acct-m')).length, 2);
    });

    test('rings reaching suspend, failing safeguard stages and audit-log problems open incidents', async () => {
      const repo = new IncidentRepository(t.db);
      const triggers = new IncidentTriggers(repo, triggersConfigSchema.parse(undefined));
      const action = (accountId: string, next: string) => ({ accountId, ringId: 'ring-77', previous: 'flag', next, score: 0.97, reasons: ['shared payment fingerprint'] });
      triggers.ringAction(action('acct-r1', 'degrade')); // not a configured action
      triggers.ringAction(action('acct-r1', 'suspend'));
      triggers.ringAction(action('acct-r2', 'suspend'));
      triggers.auditProblem('start-up verification failed: record seq 41 hash does not match; segment quarantined');
      triggers.sink.onEvent({ requestId: 'rq-fail', time: 1, keyId: 'k', accountId: 'acct-f', orgId: null, protocol: 'openai', stream: false, modelRequested: 'frontier', modelServed: null, outcome: 'refused', status: 503, code: 'classifier_unavailable', ref: { classifier: 'bio-chem' }, inputTokens: 0, outputTokens: 0, usageEstimated: false, costUsd: 0, latencyMs: 1 });
      await triggers.flush();
      const all = await repo.list();
      const ring = all.filter((i) => i.trigger === 'ring-action');
      assert.equal(ring.length, 1);
      assert.deepEqual(ring[0]!.rings, ['ring-77']);
      assert.deepEqual(ring[0]!.principals.sort(), ['account:acct-r1', 'account:acct-r2']);
      const audit = all.find((i) => i.trigger === 'audit-problem')!;
      assert.equal(audit.severity, 'critical');
      assert.match(audit.title, /record seq 41/);
      const stage = all.find((i) => i.trigger === 'safeguard-failure')!;
      assert.deepEqual(stage.requestIds, ['rq-fail']);
    });

    test('a directive issued under an authority opens one incident, once', async () => {
      const repo = new IncidentRepository(t.db);
      const triggers = new IncidentTriggers(repo, triggersConfigSchema.parse(undefined));
      const now = Date.UTC(2026, 10, 30);
      const d = (id: string, over: Record<string, unknown> = {}) => ({ id, status: 'active', models: ['frontier', 'cyber-*'], effect: 'suspend', authority: 'BIS', reference: `Order ${id}`, issuedAt: now - 3_600_000, issuedBy: 'alice', ...over });
      const list = [d(`D-${backend}-1`), d(`D-${backend}-old`, { issuedAt: now - 8 * DAY }), d(`D-${backend}-lifted`, { status: 'lifted' })];
      await triggers.directivesChanged(list, now);
      await triggers.directivesChanged(list, now);
      await triggers.flush();
      // A fresh process (another replica, or a restart) does not open it again either, even once it is closed.
      const again = new IncidentTriggers(repo, triggersConfigSchema.parse(undefined));
      await again.directivesChanged(list, now);
      await again.flush();
      const mine = (await repo.list()).filter((i) => i.trigger === 'directive-issued' && i.directives.some((x) => x.startsWith(`D-${backend}`)));
      assert.equal(mine.length, 1);
      assert.deepEqual(mine[0]!.directives, [`D-${backend}-1`]);
      assert.deepEqual(mine[0]!.models, ['frontier']);
      assert.match(mine[0]!.title, /issued under BIS \(Order D-.*-1\): suspend on frontier, cyber-\*/);
      assert.equal(mine[0]!.version, 1, 'not linked twice');
    });

    test('overdue reports raise the gauge and notify once per incident and regime', async () => {
      let clock = Date.UTC(2026, 5, 1);
      const repo = new IncidentRepository(t.db, { now: () => clock });
      const registry = new Registry();
      const notes: string[] = [];
      const watch = new OverdueWatch(repo, regimes, { registry, now: () => clock, notify: (inc, d, stage) => notes.push(overdueMessage(inc, d, stage)) });
      const inc = await repo.open({ title: 'late one', severity: 'high', by: 'a', awareAt: clock - 4 * DAY });
      await repo.transition(inc.id, { to: 'investigating', by: 'a', why: 'w' });
      await repo.transition(inc.id, { to: 'reportable', by: 'a', why: 'w', regimes: ['ny-raise', 'eu-ai-act-art73'] });
      const first = await watch.check();
      assert.ok(first.report >= 1);
      const mine = notes.filter((n) => n.includes(inc.id));
      assert.equal(mine.length, 1, 'NY (72 h) is overdue, the EU (15 days) is not');
      assert.match(mine[0]!, /report under ny-raise \(safety-incident, within 72h\) was due .*overdue by 1d 0h/);
      assert.match(await registry.getSingleMetricAsString('gatehouse_incident_deadlines_overdue'), /stage="report"} [1-9]/);
      await watch.check();
      assert.equal(notes.filter((n) => n.includes(inc.id)).length, 1, 'not notified twice');
      clock += 12 * DAY;
      await watch.check();
      assert.equal(notes.filter((n) => n.includes(inc.id)).length, 2, 'the EU deadline passes later');
      await repo.transition(inc.id, { to: 'reported', by: 'a', why: 'filed' });
      const after = await watch.check();
      assert.equal(notes.filter((n) => n.includes(inc.id)).length, 2);
      assert.ok(after.report < first.report + 1);
    });
  });
}

describe('concurrent triage on PostgreSQL (two connections)', () => {
  let t: TestDb;
  before(async () => {
    t = await openTestDb('postgres', ALL_MIGRATIONS);
  });
  after(async () => {
    await t?.cleanup();
  });

  test('of two transitions made at once, exactly one wins — with or without a stated version', async () => {
    const a = new IncidentRepository(t.db, { auditActor: 'replica-a' });
    const b = new IncidentRepository(await t.openAnother(), { auditActor: 'replica-b' });
    for (let round = 0; round < 8; round++) {
      const inc = await a.open({ title: `race ${round}`, severity: 'high', by: 'x' });
      await a.transition(inc.id, { to: 'investigating', by: 'x', why: 'w' });
      const version = round % 2 === 0 ? { version: 2 } : {};
      const results = await Promise.allSettled([
        a.transition(inc.id, { to: 'reportable', by: 'alice', why: 'reportable', regimes: ['ca-sb53'], ...version }),
        b.transition(inc.id, { to: 'not-reportable', by: 'bob', why: 'not reportable', ...version }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Incident>[];
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(', ')}`);
      assert.ok(lost[0]!.reason instanceof IncidentConflictError, String(lost[0]!.reason));
      const stored = (await b.get(inc.id))!;
      assert.equal(stored.version, 3);
      assert.equal(stored.state, won[0]!.value.state);
      const timeline = await a.timelineOf(inc.id);
      assert.equal(timeline.length, 3, 'the loser left no timeline entry');
      const inbox = await t.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM audit_inbox WHERE target = $1 AND action = 'incident.transitioned'", [inc.id]);
      assert.equal(Number(inbox[0]!.n), 2, 'and no audit record');
    }
  });

  test('two replicas reporting the same burst at once make one incident', async () => {
    const a = new IncidentRepository(t.db);
    const b = new IncidentRepository(await t.openAnother());
    const report = (id: string) => ({ dedupeKey: 'refusal-burst:bio-chem:org:o-race', trigger: 'refusal-burst', title: 'burst', severity: 'high' as const, models: ['m'], principals: ['org:o-race'], requestIds: [id], by: 'trigger:refusal-burst' });
    const [ra, rb] = await Promise.all([a.report(report('q1')), b.report(report('q2'))]);
    assert.equal(ra.incident.id, rb.incident.id);
    assert.equal([ra.opened, rb.opened].filter(Boolean).length, 1);
    const stored = (await a.get(ra.incident.id))!;
    assert.deepEqual([...stored.requestIds].sort(), ['q1', 'q2']);
  });
});

describe('reporting regimes as data', () => {
  const base: Incident = {
    id: 'inc_1', title: 't', summary: null, severity: 'high', state: 'reportable', version: 3, trigger: 'manual', dedupeKey: null, models: ['frontier'], principals: [], requestIds: [], linkedCount: 0,
    rings: [], directives: [], facts: [], regimes: ['eu-ai-act-art73', 'ca-sb53', 'ny-raise'], awareAt: Date.UTC(2026, 10, 1), openedAt: Date.UTC(2026, 10, 1), openedBy: 'a', updatedAt: 0, reportedAt: null, reportRefs: [], closedAt: null,
  };
  const due = (facts: Incident['facts'], now = base.awareAt + HOUR) => Object.fromEntries(deadlinesFor({ ...base, facts }, regimes, now).map((d) => [d.regime, [d.rule, (d.dueAt - base.awareAt) / HOUR, d.status]]));

  test('the shipped file: EU 15 d / 10 d death / 2 d widespread or critical infrastructure; California 15 d / 24 h imminent risk; New York 72 h', () => {
    assert.equal(regimes.version, 1);
    assert.match(regimes.asOf, /^\d{4}-\d{2}-\d{2}$/);
    for (const g of regimes.regimes) assert.ok(g.source && g.asOf && g.authority, g.id);
    assert.deepEqual(due([]), { 'eu-ai-act-art73': ['serious-incident', 360, 'pending'], 'ca-sb53': ['critical-safety-incident', 360, 'pending'], 'ny-raise': ['safety-incident', 72, 'pending'] });
    assert.deepEqual(due(['death'])['eu-ai-act-art73'], ['death', 240, 'pending']);
    assert.deepEqual(due(['death', 'critical-infrastructure'])['eu-ai-act-art73'], ['widespread-or-critical-infrastructure', 48, 'pending']);
    assert.deepEqual(due(['widespread'])['eu-ai-act-art73'], ['widespread-or-critical-infrastructure', 48, 'pending']);
    assert.deepEqual(due(['imminent-risk'])['ca-sb53'], ['imminent-risk', 24, 'pending']);
    assert.deepEqual(due(['imminent-risk'], base.awareAt + 30 * HOUR)['ca-sb53'], ['imminent-risk', 24, 'overdue']);
    const d = deadlinesFor(base, regimes, base.awareAt + 70 * HOUR).find((x) => x.regime === 'ny-raise')!;
    assert.equal(d.timeLeftMs, 2 * HOUR);
    assert.equal(formatTimeLeft(d.timeLeftMs), '2h 0m left');
    assert.equal(formatTimeLeft(-(DAY + 3 * HOUR)), 'overdue by 1d 3h');
    // While triaging every regime shows its clock as potential; found not reportable, none.
    assert.ok(deadlinesFor({ ...base, state: 'investigating', regimes: [] }, regimes, base.awareAt).every((x) => x.status === 'potential'));
    assert.deepEqual(deadlinesFor({ ...base, state: 'not-reportable' }, regimes, base.awareAt), []);
    assert.equal(deadlinesFor({ ...base, state: 'reported', reportedAt: base.awareAt + 80 * HOUR }, regimes, 0).find((x) => x.regime === 'ny-raise')!.status, 'late');
    const text = renderReport({ ...base, facts: ['death'] }, regimes.byId.get('eu-ai-act-art73')!, deadlinesFor({ ...base, facts: ['death'] }, regimes, 0)[0]);
    assert.match(text, /Report due: 2026-11-11T00:00:00.000Z \(death, within 10d\)/);
    assert.match(text, /models concerned: frontier/);
  });

  test('malformed regime files are refused with file:line:col', () => {
    const dir = tempDir();
    const file = join(dir, 'regimes.yaml');
    const good = 'version: 1\nasOf: 2026-01-01\nregimes:\n  - id: x\n    name: X\n    source: S\n    asOf: 2026-01-01\n    authority: A\n    deadlines:\n      - id: d\n        within: 15d\n    template: "{{id}}"\n';
    assert.equal(parseRegimes(good, file).regimes.length, 1);
    const bad = (text: string) => {
      try {
        parseRegimes(text, file);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    assert.match(bad(good.replace('within: 15d', 'within: 15 days')), new RegExp(`${file}:11:17: regimes\\[0\\]\\.deadlines\\[0\\]\\.within: expected a duration`));
    assert.match(bad(good.replace('    authority: A\n', '    authority: A\n    colour: red\n')), /regimes\.yaml:9:5: regimes\[0\]\.colour: unknown field 'colour'/);
    assert.match(bad(good.replace('      - id: d\n        within: 15d\n', '      - id: d\n        within: 15d\n        when: [death]\n')), /regimes\.yaml:10:7: regimes\[0\]\.deadlines: a regime needs one deadline without `when`/);
    assert.match(bad(good.replace('"{{id}}"', '"{{colour}}"')), /regimes\.yaml:12:15: regimes\[0\]\.template: unknown template field '\{\{colour\}\}'/);
    assert.match(bad(good.replace('when', 'x').replace('asOf: 2026-01-01\nregimes', 'asOf: yesterday\nregimes')), /regimes\.yaml:2:7: asOf: expected a date/);
    assert.match(bad(good + '  - id: x\n'), /regimes\.yaml:13:\d+: regimes\[1\]\.name: is required/);
    assert.match(bad('version: 1\nasOf: [\n'), /regimes\.yaml:\d+:\d+: \(root\): invalid YAML/);
    writeFileSync(file, good.replace('within: 15d', 'within: 0d'));
    assert.throws(() => loadRegimes(file), /regimes\.yaml:11:17/);
  });
});

describe('incidents through the CLI and a gateway', () => {
  let h: Harness;
  const ADMIN_TOKEN = 'incidents-admin-token';
  before(async () => {
    const classify = { enabled: true, tiers: { general: { 'security-offensive': { action: 'refuse', threshold: 0 } } } };
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: join(tempDir(), 'audit.jsonl') }, classify } });
  });
  after(async () => {
    await h?.close();
  });
  const admin = (path: string, init: RequestInit = {}) => fetch(`${h.url}/admin/v1${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });

  test('a burst of classifier refusals for one account opens incidents (account and org) that the admin API shows with their clocks', async () => {
    const body = JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'Hello' }] });
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body });
      assert.equal(r.status, 403);
      await r.arrayBuffer();
    }
    let list: any[] = [];
    for (let i = 0; i < 100 && list.length < 2; i++) {
      list = ((await (await admin('/incidents?state=open')).json()) as any).incidents.filter((x: any) => x.trigger === 'refusal-burst');
      if (list.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(list.map((i) => i.dedupeKey).sort(), ['refusal-burst:security-offensive:account:acct-test', 'refusal-burst:security-offensive:org:org-test']);
    for (const inc of list) {
      assert.equal(inc.requestIds.length, 20);
      assert.deepEqual(inc.models, ['frontier']);
      assert.deepEqual(inc.deadlines.map((d: any) => d.status), ['potential', 'potential', 'potential']);
    }
    const id = list[0].id;
    const move = (b: unknown) => admin(`/incidents/${id}/transition`, { method: 'POST', body: JSON.stringify(b) });
    assert.equal((await move({ to: 'investigating', by: 'tsa-oncall', why: 'triage', version: 1 })).status, 200);
    const stale = await move({ to: 'not-reportable', by: 'tsa-oncall', why: 'dup', version: 1 });
    assert.equal(stale.status, 409);
    assert.match(((await stale.json()) as any).error.message, /at version 2/);
    const rep = await move({ to: 'reportable', by: 'legal', why: 'imminent risk', regimes: ['ca-sb53'], facts: ['imminent-risk'] });
    assert.equal(rep.status, 200);
    const shown = (await (await admin(`/incidents/${id}`)).json()) as any;
    assert.deepEqual(shown.incident.deadlines.map((d: any) => [d.regime, d.rule, d.status]), [['ca-sb53', 'imminent-risk', 'pending']]);
    assert.ok(shown.incident.deadlines[0].timeLeftMs <= 24 * HOUR && shown.incident.deadlines[0].timeLeftMs > 23 * HOUR);
    assert.deepEqual(shown.timeline.map((e: any) => e.to), ['open', 'investigating', 'reportable']);
    const report = await admin(`/incidents/${id}/report/ca-sb53`);
    assert.match(await report.text(), /Critical safety incident report/);
    const bad = await admin('/incidents', { method: 'POST', body: JSON.stringify({ title: 'x', severity: 'urgent', by: 'a' }) });
    assert.equal(bad.status, 400);
    assert.equal((await admin('/incidents/inc_missing')).status, 404);
    const opened = await admin('/incidents', { method: 'POST', body: JSON.stringify({ title: 'by hand', severity: 'low', by: 'a', facts: ['death'] }) });
    assert.equal(opened.status, 201);

    const issued = await admin('/directives', { method: 'POST', body: JSON.stringify({ id: 'D-BIS-9', models: ['lite'], effect: 'suspend', authority: 'BIS', reference: 'Order 9', by: 'alice', why: 'order' }) });
    assert.equal(issued.status, 201, await issued.clone().text());
    let fromDirective: any;
    for (let i = 0; i < 100 && !fromDirective; i++) {
      fromDirective = ((await (await admin('/incidents')).json()) as any).incidents.find((x: any) => x.trigger === 'directive-issued' && x.directives.includes('D-BIS-9'));
      if (!fromDirective) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(fromDirective, 'issuing a directive opened an incident');
    assert.equal(fromDirective.severity, 'medium');
  });

  test('the CLI opens, transitions and shows incidents; a bad regimes file is refused with file:line:col', async () => {
    let out = '';
    let err = '';
    const cli = (args: string[]) => {
      out = '';
      err = '';
      return incidentsCli(['incidents', ...args, ...(args[0] === 'regimes' ? [] : ['--store', h.storeUrl])], { out: (s) => (out += s), err: (s) => (err += s), env: {} });
    };
    assert.equal(await cli(['open', '--title', 'Manual report', '--severity', 'critical', '--by', 'carol', '--model', 'frontier', '--principal', 'account:acct-test', '--fact', 'death', '--json']), 0, err);
    const id = JSON.parse(out).incident.id as string;
    assert.equal(await cli(['transition', id, '--to', 'investigating', '--by', 'carol', '--why', 'looking']), 0, err);
    assert.match(out, /is now investigating \(version 2\)/);
    assert.equal(await cli(['transition', id, '--to', 'reportable', '--by', 'carol', '--why', 'death', '--regime', 'eu-ai-act-art73']), 0, err);
    assert.match(out, /eu-ai-act-art73: due .* \(death, 10d\) — 9d 23h left/);
    assert.equal(await cli(['transition', id, '--to', 'closed', '--by', 'carol', '--why', 'x']), 1);
    assert.match(err, /cannot go from 'reportable' to 'closed' \(next: reported\)/);
    assert.equal(await cli(['show', id]), 0, err);
    assert.match(out, /v3 .* carol: transition → reportable — death/);
    assert.equal(await cli(['list', '--state', 'reportable']), 0);
    assert.match(out, new RegExp(`${id}  reportable`));
    const bad = join(tempDir(), 'bad-regimes.yaml');
    writeFileSync(bad, 'version: 1\nasOf: 2026-01-01\nregimes:\n  - id: X!\n');
    assert.equal(await cli(['regimes', 'check', bad]), 2);
    assert.match(err, /bad-regimes\.yaml:4:9: regimes\[0\]\.id: expected a lower-case id/);
    assert.equal(await cli(['regimes']), 0);
    assert.match(out, /ny-raise +New York RAISE Act/);
  });
});

describe('the incidents: config section', () => {
  let h: Harness;
  const ADMIN_TOKEN = 'incidents-config-token';
  before(async () => {
    const classify = { enabled: true, tiers: { general: { 'security-offensive': { action: 'refuse', threshold: 0 } } } };
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { classify, incidents: { triggers: { refusalBurst: { threshold: 3, windowMs: 60_000, scopes: ['account'] } } } } });
  });
  after(async () => {
    await h?.close();
  });

  test('trigger thresholds and scopes come from the gateway config', async () => {
    const body = JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'Hello' }] });
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body });
      assert.equal(r.status, 403);
      await r.arrayBuffer();
    }
    let list: any[] = [];
    for (let i = 0; i < 100 && list.length < 1; i++) {
      const res = await fetch(`${h.url}/admin/v1/incidents?state=open`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      list = ((await res.json()) as any).incidents.filter((x: any) => x.trigger === 'refusal-burst');
      if (list.length < 1) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${h.url}/admin/v1/incidents?state=open`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    list = ((await res.json()) as any).incidents.filter((x: any) => x.trigger === 'refusal-burst');
    // Account scope only (the default also opens one for the organisation), after 3 refusals (default 20).
    assert.deepEqual(list.map((i) => i.dedupeKey), ['refusal-burst:security-offensive:account:acct-test']);
  });
});
