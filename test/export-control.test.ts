/**
 * The export-control report: a real gateway with a policy requiring a licence for one model; requests refused
 * before a licence is granted, served under it, refused again after it is revoked. The report must attribute exactly
 * the served requests to the licence (revoked since, but valid when they were served) and list exactly the refusals.
 * Licence exports are ledger records: one recorded between two served requests covers the second only; bad exports
 * (model, destination, recipient, validity outside the licence) are refused naming the field; revocation is kept.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run as exportControl } from '../src/export-control/cli.ts';
import { run as licencesCli } from '../src/policy/licences-cli.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const ADMIN_TOKEN = 'export-control-admin';

describe('export-control report', () => {
  let h: Harness;
  const ids = { refused: [] as string[], licensed: [] as string[], other: [] as string[] };
  let licenceId = '';
  let auditPath = '';
  let exportId = '';
  let licenceValidTo = 0;

  before(async () => {
    const dir = tempDir('gatehouse-exportctl-');
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'version: 1\ndefault: allow\nrules:\n  - id: lite-licensed\n    models: [lite]\n    action: require\n    require: { licence: true }\n');
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: (auditPath = join(dir, 'audit.jsonl')) }, policy: { file: policy } } });
    const call = async (model: string, expect: number) => {
      const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }) });
      assert.equal(r.status, expect, await r.text());
      return r.headers.get('x-request-id')!;
    };
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    ids.refused.push(await call('lite', 403));
    const now = Date.now();
    licenceValidTo = now + 86_400_000;
    const grant = await fetch(`${h.url}/admin/v1/licences`, { method: 'POST', headers: admin, body: JSON.stringify({ licensee: { org: 'org-test' }, models: ['lite'], nationalities: ['US'], destinations: ['US'], validFrom: now - 3_600_000, validTo: licenceValidTo, reference: 'EAR-2026-117', authority: 'BIS', by: 'officer' }) });
    assert.equal(grant.status, 201, await grant.clone().text());
    licenceId = ((await grant.json()) as any).licence.id;
    ids.licensed.push(await call('lite', 200));
    // The export to this account in the US is recorded after the first request: it covers only the second.
    const recorded = await fetch(`${h.url}/admin/v1/licences/${licenceId}/exports`, { method: 'POST', headers: admin, body: JSON.stringify({ recipient: 'account:acct-test', model: 'lite', destination: 'US', validFrom: Date.now(), by: 'officer' }) });
    assert.equal(recorded.status, 201, await recorded.clone().text());
    exportId = ((await recorded.json()) as any).export.id;
    ids.licensed.push(await call('lite', 200));
    ids.other.push(await call('frontier', 200));
    const revoke = await fetch(`${h.url}/admin/v1/licences/${licenceId}`, { method: 'DELETE', headers: admin, body: JSON.stringify({ by: 'officer', why: 'export ended' }) });
    assert.equal(revoke.status, 200);
    ids.refused.push(await call('lite', 403));
  });
  after(async () => {
    await h?.close();
  });

  test('the audit record of a request served under a licence names it', () => {
    const recs = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).filter((r) => ids.licensed.includes(r.requestId));
    assert.deepEqual(recs.map((r) => r.ref?.licence), [licenceId, licenceId]);
    assert.deepEqual(recs.map((r) => r.ref?.rule), ['lite-licensed', 'lite-licensed']);
  });

  test('every request served under the licence, and every refusal for lack of one', async () => {
    let out = '';
    let err = '';
    const code = await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--json'], { out: (s) => (out += s), err: (s) => (err += s), env: {} });
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    const section = r.licences.find((s: any) => s.licence.id === licenceId);
    assert.ok(section, 'the revoked licence is in the report for the period it was valid');
    assert.equal(section.served.count, 2);
    assert.deepEqual(section.served.requests.map((q: any) => q.requestId).sort(), [...ids.licensed].sort());
    assert.deepEqual(section.served.byResidence, { US: 2 });
    assert.deepEqual(section.served.byModel, { lite: 2 });
    assert.equal(section.served.requests[0].orgId, 'org-test');
    assert.equal(r.refusedForLackOfLicence.count, 2);
    assert.deepEqual(r.refusedForLackOfLicence.requests.map((q: any) => q.requestId).sort(), [...ids.refused].sort());
    assert.deepEqual(r.refusedForLackOfLicence.byRequiredBy, { 'rule:lite-licensed': 2 });
    assert.ok(!JSON.stringify(r.licences).includes(ids.other[0]!), 'a request that needed no licence is not attributed to one');

    out = '';
    assert.equal(await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--requests', '--licence', licenceId], { out: (s) => (out += s), err: (s) => (err += s), env: {} }), 0, err);
    assert.match(out, new RegExp(`licence ${licenceId} \\(EAR-2026-117, BIS\\): org org-test; models lite; nationalities US; destinations US; .*revoked`));
    assert.match(out, /served 2: by model lite 2; by residence US 2/);
    for (const id of ids.licensed) assert.ok(out.includes(id));
    assert.match(out, /refused for lack of a licence: 2; by model lite 2; required by rule:lite-licensed 2/);

    // A window after the revocation holds only the last refusal.
    out = '';
    const code2 = await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--json', '--from', String(Date.now() + 60_000)], { out: (s) => (out += s), err: (s) => (err += s), env: {} });
    assert.equal(code2, 0);
    assert.equal(JSON.parse(out).refusedForLackOfLicence.count, 0);
    // The admin API gives the same record.
    const api = await fetch(`${h.url}/admin/v1/export-control/report?licence=${licenceId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(api.status, 200);
    const body = (await api.json()) as any;
    assert.deepEqual(body.licences.map((x: any) => [x.licence.id, x.served.count]), [[licenceId, 2]]);
    assert.equal(body.refusedForLackOfLicence.count, 2);
    assert.equal((await fetch(`${h.url}/admin/v1/export-control/report?from=soon`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 400);
    err = '';
    assert.equal(await exportControl(['export-control', 'report', '--from', 'yesterday-ish'], { out: () => {}, err: (s) => (err += s), env: {} }), 2);
    assert.match(err, /--from: 'yesterday-ish' is not a date/);
  });

  test('licence exports: linked to the served requests they cover, validated against the licence, revocable', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    let out = '';
    let err = '';
    assert.equal(await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--json', '--licence', licenceId], { out: (s) => (out += s), err: (s) => (err += s), env: {} }), 0, err);
    const section = JSON.parse(out).licences[0];
    assert.equal(section.exports.length, 1);
    assert.equal(section.exports[0].export.id, exportId);
    assert.deepEqual({ recipient: section.exports[0].export.recipient, model: section.exports[0].export.model, destination: section.exports[0].export.destination, validTo: section.exports[0].export.validTo }, { recipient: 'account:acct-test', model: 'lite', destination: 'US', validTo: licenceValidTo });
    assert.deepEqual(section.exports[0].served, { count: 1, requests: [ids.licensed[1]] });
    assert.deepEqual(section.outsideExports, { count: 1, requests: [ids.licensed[0]] });
    out = '';
    assert.equal(await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--requests', '--licence', licenceId], { out: (s) => (out += s), err: (s) => (err += s), env: {} }), 0, err);
    assert.ok(out.includes(`export ${exportId}: account:acct-test, lite to US`));
    assert.ok(out.includes(`served outside any recorded export: 1 (${ids.licensed[0]})`));
    const api = (await (await fetch(`${h.url}/admin/v1/export-control/report?licence=${licenceId}`, { headers: admin })).json()) as any;
    assert.deepEqual(api.licences[0].exports[0].served.requests, [ids.licensed[1]]);

    // Exports are validated against their licence (the licence here is revoked: no new export at all).
    const bad = async (body: Record<string, unknown>) => {
      const r = await fetch(`${h.url}/admin/v1/licences/${licenceId}/exports`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const revoked = await bad({ recipient: 'account:acct-test', model: 'lite', destination: 'US', by: 'officer' });
    assert.equal(revoked.status, 400);
    assert.match(revoked.body.error.message, /was revoked/);
    // A fresh licence to check each field.
    const now = Date.now();
    const g = await fetch(`${h.url}/admin/v1/licences`, { method: 'POST', headers: admin, body: JSON.stringify({ licensee: { account: 'acct-test' }, models: ['lite'], nationalities: ['*'], destinations: ['US', 'CA'], validFrom: now, validTo: now + 3_600_000, reference: 'EAR-2026-118', authority: 'BIS', by: 'officer' }) });
    const fresh = ((await g.json()) as any).licence.id as string;
    const post = async (body: Record<string, unknown>) => {
      const r = await fetch(`${h.url}/admin/v1/licences/${fresh}/exports`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const wrong = await post({ recipient: 'account:someone-else', model: 'frontier', destination: 'UK', validTo: now + 7_200_000, by: 'officer' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body.error.issues.map((i: any) => i.path).sort(), ['destination', 'model', 'recipient', 'validTo']);
    assert.match(JSON.stringify(wrong.body), /use 'GB'/);
    const outside = await post({ recipient: 'account:acct-test', model: 'lite', destination: 'FR', by: 'officer' });
    assert.match(outside.body.error.message, /does not cover destination FR/);
    const extra = await post({ recipient: 'account:acct-test', model: 'lite', destination: 'CA', by: 'officer', colour: 'red' });
    assert.equal(extra.status, 400);
    const ok = await post({ recipient: 'account:acct-test', model: 'lite', destination: 'CA', by: 'officer', id: 'exp-ca-1' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal((await post({ recipient: 'account:acct-test', model: 'lite', destination: 'CA', by: 'officer', id: 'exp-ca-1' })).status, 400, 'duplicate id');

    // CLI: record, list, revoke; the licence shows its exports.
    const cli = async (args: string[]) => {
      let o = '';
      const code = await licencesCli(['licences', ...args, '--store', h.storeUrl, '--config', h.configPath], { out: (s) => (o += s), err: (s) => (o += s), env: {} });
      return { code, out: o };
    };
    const rec = await cli(['record-export', fresh, '--recipient', 'account:acct-test', '--model', 'lite', '--destination', 'US', '--export-id', 'exp-us-cli', '--by', 'officer']);
    assert.equal(rec.code, 0, rec.out);
    assert.match(rec.out, /recorded export exp-us-cli under licence/);
    const listed = await cli(['exports', fresh]);
    assert.match(listed.out, /exp-ca-1 +valid +account:acct-test +model=lite +destination=CA/);
    assert.match(listed.out, /exp-us-cli +valid/);
    const rv = await cli(['revoke-export', fresh, 'exp-ca-1', '--by', 'officer', '--why', 'shipment cancelled']);
    assert.equal(rv.code, 0, rv.out);
    assert.equal((await cli(['revoke-export', fresh, 'exp-ca-1', '--by', 'officer', '--why', 'again'])).code, 1);
    assert.equal((await cli(['revoke-export', fresh, 'exp-nope', '--by', 'officer', '--why', 'x'])).code, 1);
    assert.equal((await cli(['record-export', fresh, '--recipient', 'acct-test', '--model', 'lite', '--destination', 'US', '--by', 'officer'])).code, 2);
    const shown = (await (await fetch(`${h.url}/admin/v1/licences/${fresh}`, { headers: admin })).json()) as any;
    assert.deepEqual(shown.exports.map((e: any) => [e.id, e.revokedAt !== null]), [['exp-ca-1', true], ['exp-us-cli', false]]);
    const del = await fetch(`${h.url}/admin/v1/licences/${fresh}/exports/exp-us-cli`, { method: 'DELETE', headers: admin, body: JSON.stringify({ by: 'officer', why: 'done' }) });
    assert.equal(del.status, 200);
    assert.equal((await fetch(`${h.url}/admin/v1/licences/${fresh}/exports/exp-us-cli`, { method: 'DELETE', headers: admin, body: JSON.stringify({ by: 'officer', why: 'done' }) })).status, 409);
    assert.equal((await fetch(`${h.url}/admin/v1/licences/${fresh}/exports/nope`, { method: 'DELETE', headers: admin, body: JSON.stringify({ by: 'officer', why: 'done' }) })).status, 404);
    assert.equal((await fetch(`${h.url}/admin/v1/licences/nope/exports`, { headers: admin })).status, 404);

    // Every export change is on the audit record, against its licence.
    for (let i = 0; i < 100; i++) {
      const recs = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'admin' && r.target === fresh && String(r.action).startsWith('licence.export_'));
      if (recs.length >= 4) {
        assert.deepEqual(recs.map((r) => r.action).sort(), ['licence.export_recorded', 'licence.export_recorded', 'licence.export_revoked', 'licence.export_revoked']);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('the export changes did not reach the audit log');
  });
});
