/**
 * Policy replay: a real gateway records traffic in its audit log; drafts (directive, policy, classifier thresholds,
 * a lifted directive) are replayed against it through the CLI and the admin API, and must report exactly the
 * requests they would change. Also: bad records (corrupt, truncated) with continue/stop, malformed drafts with
 * file:line:col, principals from a JSONL file, carried-over limit refusals and undecidable classifier cases.
 */
import { ALL_LABELS } from '../src/classify/labels.ts';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { run as replayCli } from '../src/replay/cli.ts';
import { ReplayEngine } from '../src/replay/engine.ts';
import { buildDraft, baselineScenario, type Baseline } from '../src/replay/draft.ts';
import { principalIndex, principalsFromJsonl } from '../src/replay/principals.ts';
import { runReplay } from '../src/replay/run.ts';
import { parseClassifyConfig } from '../src/classify/config.ts';
import { compilePolicyText } from '../src/policy/compile.ts';
import { shippedGroups } from '../src/population/groups.ts';
import { LicenceIndex } from '../src/policy/licences.ts';
import { AccessSnapshot } from '../src/policy/snapshot.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const ADMIN_TOKEN = 'replay-admin-token';

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return replayCli(['replay', ...args], { out: (s) => (out += s), err: (s) => (err += s), env: {} }).then((code) => ({ code, out, err }));
}

describe('replay against a gateway’s recorded traffic', () => {
  let h: Harness;
  let dir: string;
  let auditPath: string;
  const ids: Record<string, string[]> = { frontier: [], lite: [] };

  before(async () => {
    dir = tempDir('gatehouse-replay-');
    auditPath = join(dir, 'audit.jsonl');
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: auditPath }, classify: { enabled: true } } });
    const client = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    for (const model of ['frontier', 'frontier', 'frontier', 'lite', 'lite']) {
      const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello, what is the capital of France?' }] }).withResponse();
      ids[model]!.push(r.response.headers.get('x-request-id')!);
    }
    // A 401 (never reaches the gates) is recorded and must be skipped, not replayed.
    await new OpenAI({ apiKey: 'gh_wrong', baseURL: `${h.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'x' }] }).catch(() => {});
    // Records are durable before the response completes.
  });
  after(async () => {
    await h?.close();
  });

  test('a draft directive: exactly the requests it would refuse, grouped, with their ids (CLI and admin API agree)', async () => {
    const directive = join(dir, 'suspend-us.yaml');
    writeFileSync(directive, 'id: D-US\nmodels: [frontier]\npopulation: { nationality: { anyOf: [US] } }\neffect: suspend\nauthority: BIS\nreference: Order 1\n');
    const r = await cli(['--config', h.configPath, '--store', h.storeUrl, '--directive', directive, '--json']);
    assert.equal(r.code, 0, r.err);
    const rep = JSON.parse(r.out);
    assert.equal(rep.report.records.replayed, 5);
    assert.equal(rep.report.records.skipped['invalid (never reached the gates)'], 1);
    assert.equal(rep.report.fidelity.agree, 5);
    const g = rep.report.changes['served→refused'];
    assert.equal(g.count, 3);
    assert.deepEqual([...g.examples].sort(), [...ids.frontier!].sort());
    assert.deepEqual(g.byReason, { directive_suspended: 3 });
    assert.deepEqual(g.byModel, { frontier: 3 });
    assert.deepEqual(g.byOrg, { 'org-test': 3 });
    assert.equal(g.byAttribute['nationality:US'], 3);
    assert.equal(g.byAttribute['kyc:basic'], 3);
    assert.equal(rep.report.unchanged, 2);
    assert.equal(rep.report.changes['refused→served'].count, 0);

    const api = await fetch(`${h.url}/admin/v1/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ directives: [{ id: 'D-US', models: ['frontier'], population: { nationality: { anyOf: ['US'] } }, effect: 'suspend', authority: 'BIS', reference: 'Order 1' }] }),
    });
    assert.equal(api.status, 200);
    const body = (await api.json()) as any;
    assert.deepEqual(body.report.changes['served→refused'], g);

    const human = await cli(['--config', h.configPath, '--store', h.storeUrl, '--directive', directive]);
    assert.match(human.out, /served→refused: 3/);
    assert.match(human.out, /by reason: directive_suspended 3/);
  });

  test('a draft route and a draft policy: rerouted and refused by rule', async () => {
    const route = join(dir, 'route.json');
    writeFileSync(route, JSON.stringify({ models: ['frontier'], effect: 'route:lite', authority: 'ops', reference: 'capacity' }));
    const r = await cli(['--config', h.configPath, '--store', h.storeUrl, '--directive', route, '--json']);
    const rep = JSON.parse(r.out);
    assert.equal(rep.report.changes.rerouted.count, 3);
    assert.deepEqual(rep.report.changes.rerouted.byReason, { 'frontier→lite': 3 });

    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'version: 1\ndefault: allow\nrules:\n  - id: lite-needs-verified\n    models: [lite]\n    action: require\n    require: { kyc: verified-identity }\n');
    const p = JSON.parse((await cli(['--config', h.configPath, '--store', h.storeUrl, '--policy', policy, '--json'])).out);
    assert.equal(p.report.changes['served→refused'].count, 2);
    assert.deepEqual(p.report.changes['served→refused'].byReason, { kyc_required: 2 });
    assert.deepEqual([...p.report.changes['served→refused'].examples].sort(), [...ids.lite!].sort());
  });

  test('classifier thresholds are re-decided from the recorded scores', async () => {
    const rec = readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((x) => x.kind === 'request' && x.outcome === 'ok');
    assert.ok(rec.labels && typeof rec.labels['violent-crimes'] === 'number', 'the audit record holds the scores');
    const cls = join(dir, 'thresholds.yaml');
    writeFileSync(cls, 'tiers:\n  general:\n    violent-crimes: { action: refuse, threshold: 0 }\n');
    const r = JSON.parse((await cli(['--config', h.configPath, '--store', h.storeUrl, '--classify', cls, '--json'])).out);
    assert.equal(r.report.changes['served→refused'].count, 5);
    assert.deepEqual(r.report.changes['served→refused'].byReason, { classifier_violent_crimes: 5 });
    assert.deepEqual(r.draft, ['classify general.violent-crimes: refuse at 0']);
    // Thresholds that nothing recorded reaches change nothing.
    writeFileSync(cls, 'classify:\n  tiers:\n    general:\n      violent-crimes: { action: refuse, threshold: 1 }\n');
    const none = JSON.parse((await cli(['--config', h.configPath, '--store', h.storeUrl, '--classify', cls, '--json'])).out);
    assert.equal(none.report.unchanged, 5);
  });

  test('a limits draft is replayed request by request in recorded order', async () => {
    const limits = join(dir, 'limits.yaml');
    writeFileSync(limits, 'limits:\n  defaults:\n    key: { rpm: 2 }\n');
    const r = JSON.parse((await cli(['--config', h.configPath, '--store', h.storeUrl, '--limits', limits, '--json'])).out);
    const g = r.report.changes['served→refused'];
    // Two requests fit the key's burst; the next three (made within seconds) do not.
    assert.equal(g.count, 3);
    assert.deepEqual(g.byReason, { rate_limit_rpm_key: 3 });
    assert.deepEqual([...g.examples].sort(), [ids.frontier![2]!, ...ids.lite!].sort());
    assert.match(r.draft[0], /^limits: key rpm 2/);
    writeFileSync(limits, 'limits:\n  defaults:\n    key: { rpm: 0 }\n');
    const bad = await cli(['--config', h.configPath, '--store', h.storeUrl, '--limits', limits]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /limits\.yaml:3:\d+: limits\.defaults\.key\.rpm/);
  });

  test('corrupt and truncated logs: reported as file:line, continue or stop as asked', async () => {
    const copy = join(dir, 'copy.jsonl');
    copyFileSync(auditPath, copy);
    const good = readFileSync(copy, 'utf8').split('\n').filter(Boolean).length;
    appendFileSync(copy, '{"kind":"request","requestId":"broken"\n');
    appendFileSync(copy, readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).find((l) => l.includes('"kind":"request"') && l.includes('"outcome":"ok"'))!.replace(/"requestId":"[^"]+"/, '"requestId":"after-bad"') + '\n');
    appendFileSync(copy, '{"kind":"request","requestId":"cut-off","outc');
    const directive = join(dir, 'suspend-all.yaml');
    writeFileSync(directive, 'models: [frontier, lite]\neffect: suspend\nauthority: a\nreference: r\n');
    const cont = await cli(['--config', h.configPath, '--store', h.storeUrl, '--log', copy, '--directive', directive, '--json']);
    assert.equal(cont.code, 0, cont.err);
    const rep = JSON.parse(cont.out).report;
    assert.equal(rep.records.bad, 2);
    assert.deepEqual(rep.badRecords.map((b: any) => `${b.file}:${b.line}`), [`${copy}:${good + 1}`, `${copy}:${good + 3}`]);
    assert.match(rep.badRecords[1].reason, /truncated/);
    assert.ok(rep.changes['served→refused'].examples.includes('after-bad'), 'the record after a bad one is replayed');

    const stop = await cli(['--config', h.configPath, '--store', h.storeUrl, '--log', copy, '--directive', directive, '--on-error', 'stop']);
    assert.equal(stop.code, 1);
    assert.match(stop.err, new RegExp(`stopped at ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${good + 1}: not a JSON record`));
  });

  test('malformed drafts are refused with file:line:col', async () => {
    const bad = join(dir, 'bad-directive.yaml');
    writeFileSync(bad, 'models: [frontier]\npopulation:\n  nationality: { anyOf: [UK] }\neffect: suspend\nauthority: a\nreference: r\ncolour: red\n');
    const r = await cli(['--config', h.configPath, '--store', h.storeUrl, '--directive', bad]);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:1: colour: unknown field`));
    writeFileSync(bad, 'models: [frontier]\npopulation:\n  nationality: { anyOf: [UK] }\neffect: suspend\nauthority: a\nreference: r\n');
    const r2 = await cli(['--config', h.configPath, '--store', h.storeUrl, '--directive', bad]);
    assert.match(r2.err, /bad-directive\.yaml:3:\d+: population\.nationality\.anyOf\[0\]/);
    const cls = join(dir, 'bad-thresholds.yaml');
    writeFileSync(cls, 'tiers:\n  general:\n    violent-crimes: { action: refuse, threshold: 2 }\n');
    const r3 = await cli(['--config', h.configPath, '--store', h.storeUrl, '--classify', cls]);
    assert.equal(r3.code, 2);
    assert.match(r3.err, /bad-thresholds\.yaml:3:\d+: tiers\.general\.violent-crimes\.threshold/);
    const api = await fetch(`${h.url}/admin/v1/replay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ policy: 'rules:\n  - id: x\n    models: [nope]\n    action: allow\n' }) });
    assert.equal(api.status, 400);
    assert.match(((await api.json()) as any).error.message, /policy:3:\d+: rules\[0\]\.models\[0\]: unknown model/);
  });
});

describe('replay engine on a JSONL sample', () => {
  const models = ['frontier', 'lite', 'cyber'];
  const dir = tempDir('gatehouse-replay-unit-');
  const principals = join(dir, 'principals.jsonl');
  writeFileSync(principals, [
    JSON.stringify({ keyId: 'k-us', accountId: 'a-us', orgId: 'o1', nationalities: ['US'], residence: 'US', kyc: 'basic', tier: 'general' }),
    JSON.stringify({ accountId: 'a-cn', orgId: 'o2', nationalities: ['CN'], residence: 'CN', kyc: 'none', tier: 'general' }),
  ].join('\n') + '\n');
  // A gateway records a score for every label; these records do too (low everywhere unless set).
  const LOW_SCORES = Object.fromEntries(ALL_LABELS.map((l) => [l, 0.01]));
  const rec = (id: string, over: Record<string, unknown>) => JSON.stringify({ kind: 'request', requestId: id, requestTime: Date.UTC(2026, 0, 1), principal: { keyId: 'k-us', accountId: 'a-us', orgId: 'o1' }, modelRequested: 'frontier', modelServed: 'frontier', outcome: 'ok', status: 200, labels: { ...LOW_SCORES, 'security-offensive': 0.1, 'bio-chem': 0.05, 'violent-crimes': 0.1, jailbreak: 0.01 }, ...over });
  const sample = join(dir, 'sample.jsonl');
  writeFileSync(sample, [
    rec('r1', {}),
    rec('r2', { principal: { keyId: 'k-gone', accountId: 'a-cn', orgId: 'o2' }, modelServed: null, outcome: 'refused', status: 403, code: 'policy_deny', labels: undefined }),
    rec('r3', { outcome: 'refused', status: 429, code: 'rate_limited', ref: { limit: 'account' }, modelServed: null }),
    rec('r4', { principal: { keyId: 'k-none', accountId: 'a-none', orgId: null } }),
  ].join('\n') + '\n');
  const policyText = 'version: 1\nrules:\n  - id: no-cn\n    models: [frontier]\n    when: { nationality: { anyOf: [CN] } }\n    action: deny\n    code: policy_deny\n';
  const baseline = (): Baseline => {
    const policy = compilePolicyText(policyText, 'base.yaml', { models, groups: shippedGroups() });
    return { access: new AccessSnapshot(policy, [], LicenceIndex.EMPTY, models), classify: parseClassifyConfig({}), models, groups: shippedGroups() };
  };

  test('lifting a rule serves a refused principal only where the scores are recorded; limit refusals carry over; unknown principals are skipped', async () => {
    const b = baseline();
    const draft = buildDraft(b, { policy: { text: 'version: 1\nrules: []\n', name: 'draft.yaml' } });
    const engine = new ReplayEngine({ baseline: baselineScenario(b), draft: draft.scenario, principals: principalIndex(principalsFromJsonl(principals)) });
    const { report } = await runReplay([{ path: sample, limit: null }], engine);
    assert.equal(report.records.requests, 4);
    assert.equal(report.records.skipped['principal not found'], 1);
    // r2: refused by policy (never classified, no scores) → the draft would need the classifier: undetermined.
    assert.equal(report.changes.undetermined.count, 1);
    assert.deepEqual(report.changes.undetermined.examples, ['r2']);
    assert.deepEqual(report.changes.undetermined.byAttribute['nationality:CN'], 1);
    // r3 stays limited under both; r1 unchanged.
    assert.equal(report.unchanged, 2);
    assert.equal(report.fidelity.agree, 3);

    // With the classifier off there is nothing to be unsure about: r2 would be served.
    const off = { ...b, classify: null };
    const draft2 = buildDraft(off, { policy: { text: 'version: 1\nrules: []\n', name: 'draft.yaml' } });
    const e2 = new ReplayEngine({ baseline: baselineScenario(off), draft: draft2.scenario, principals: principalIndex(principalsFromJsonl(principals)) });
    const r2 = (await runReplay([{ path: sample, limit: null }], e2)).report;
    assert.equal(r2.changes['refused→served'].count, 1);
    assert.deepEqual(r2.changes['refused→served'].byReason, { policy_deny: 1 });
    assert.deepEqual(r2.changes['refused→served'].byOrg, { o2: 1 });
  });

  test('a malformed principals file names every bad line', () => {
    const bad = join(dir, 'bad-principals.jsonl');
    writeFileSync(bad, '{"accountId":"a"}\nnot json\n{"accountId":"b","kyc":"super"}\n');
    assert.throws(() => principalsFromJsonl(bad), (err: Error) => /bad-principals\.jsonl:2:1: \(root\): not JSON/.test(err.message) && /bad-principals\.jsonl:3:1: kyc: expected one of/.test(err.message));
  });

  test('--limit, --from/--to and lifting an unknown directive', async () => {
    const b = baseline();
    assert.throws(() => buildDraft(b, { lift: ['D-none'] }), /no active directive 'D-none'/);
    const engine = new ReplayEngine({ baseline: baselineScenario(b), draft: baselineScenario(b), principals: principalIndex(principalsFromJsonl(principals)) });
    const res = await runReplay([{ path: sample, limit: null }], engine, { limit: 2 });
    assert.equal(res.truncated, true);
    assert.equal(res.report.records.requests, 2);
    const e2 = new ReplayEngine({ baseline: baselineScenario(b), draft: baselineScenario(b), principals: principalIndex(principalsFromJsonl(principals)) });
    const none = await runReplay([{ path: sample, limit: null }], e2, { from: Date.UTC(2027, 0, 1) });
    assert.equal(none.report.records.requests, 0);
  });
});
