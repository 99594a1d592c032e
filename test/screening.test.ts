/**
 * Denied-party screening: lists in the publishers' formats (OFAC SDN legacy CSV with alt.csv and add.csv; the
 * Consolidated Screening List as JSON and as CSV), names matched across transliterations and aliases with the
 * country taken into account, every match explained; malformed files refused with file:line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadList, parseCsv, countryCode } from '../src/screening/lists.ts';
import { ScreeningIndex } from '../src/screening/matcher.ts';
import { fold, phoneticKey } from '../src/screening/normalize.ts';
import { run as screeningCli } from '../src/screening/cli.ts';
import { tempDir } from './support/config.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { appendFileSync } from 'node:fs';
import { IncidentRepository } from '../src/incidents/repository.ts';
import { openDb } from '../src/store/open.ts';

const dir = tempDir('gatehouse-screening-');
const sdn = join(dir, 'sdn.csv');
// OFAC legacy format: no header, -0- for empty fields, quoted.
writeFileSync(sdn, [
  '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
  '10001,"IVANOV, Sergei Petrovich","individual","RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 01 Jan 1970; nationality Russia."',
  '10002,"AL-RASHID, Mohammed Abdullah","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
  '10003,"NOVA HORIZON TRADING LLC",-0- ,"IRAN] [IFSR",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
].join('\r\n') + '\r\n');
writeFileSync(join(dir, 'alt.csv'), ['10001,501,"aka","IVANOV, Sergey",-0- ', '10003,502,"aka","NEW HORIZON TRADING CO",-0- '].join('\r\n') + '\r\n');
writeFileSync(join(dir, 'add.csv'), ['10001,701,-0- ,"Moscow","Russia",-0- ', '10002,702,-0- ,"Damascus","Syria",-0- ', '10003,703,"Tehran",-0- ,"Iran",-0- '].join('\r\n') + '\r\n');
const cslJson = join(dir, 'consolidated.json');
writeFileSync(cslJson, JSON.stringify({ results: [{ id: 'csl-1', name: 'Zhang Wei Technology Co., Ltd.', alt_names: ['ZW Tech'], addresses: [{ country: 'CN' }], type: 'Entity', programs: ['EAR'], source: 'Entity List (EL) - Bureau of Industry and Security' }] }));
const cslCsv = join(dir, 'consolidated.csv');
writeFileSync(cslCsv, '_id,source,entity_number,type,programs,name,title,addresses,alt_names,nationalities\n' + 'x9,"Denied Persons List (DPL) - Bureau of Industry and Security",,Individual,,"Müller, Jürgen",,"Hauptstr. 1, Berlin, DE","Mueller, Juergen",DE\n');

const entries = [...loadList(sdn), ...loadList(cslJson), ...loadList(cslCsv)];
const index = new ScreeningIndex(entries);

describe('lists in the publishers’ formats', () => {
  test('OFAC SDN with aliases and addresses, CSL JSON and CSV', () => {
    const ivanov = entries.find((e) => e.id === '10001')!;
    assert.equal(ivanov.type, 'individual');
    assert.deepEqual(ivanov.aliases, ['IVANOV, Sergey']);
    assert.deepEqual(ivanov.countries, ['RU']);
    assert.deepEqual(ivanov.programs, ['RUSSIA-EO14024']);
    assert.deepEqual(entries.find((e) => e.id === '10003')!.programs, ['IRAN', 'IFSR']);
    assert.equal(entries.find((e) => e.id === '36')!.type, 'entity');
    const zw = entries.find((e) => e.id === 'csl-1')!;
    assert.deepEqual([zw.type, zw.countries, zw.source], ['entity', ['CN'], 'Entity List (EL) - Bureau of Industry and Security']);
    const m = entries.find((e) => e.id === 'x9')!;
    assert.deepEqual([m.name, m.aliases, m.countries, m.type], ['Müller, Jürgen', ['Mueller, Juergen'], ['DE'], 'individual']);
    assert.equal(countryCode('Korea, North'), 'KP');
    assert.equal(countryCode('Burma'), 'MM');
  });

  test('malformed files are refused with file:line', () => {
    const bad = join(dir, 'bad-sdn.csv');
    writeFileSync(bad, '1,"A","individual","X"\nX2,"B","individual","Y"\n');
    assert.throws(() => loadList(bad), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: ent_num must be a number`));
    writeFileSync(bad, '1,"A","individual","X"\n2,"unterminated,individual\n');
    assert.throws(() => loadList(bad), /bad-sdn\.csv:2: unterminated quoted field/);
    const badCsv = join(dir, 'bad.csv');
    writeFileSync(badCsv, 'source,type\nx,y\n');
    assert.throws(() => loadList(`csl-csv:${badCsv}`), /bad\.csv:1: no 'name' column/);
    writeFileSync(badCsv, 'name,type\n"A",individual,extra\n');
    assert.throws(() => loadList(`csl-csv:${badCsv}`), /bad\.csv:2: expected 2 fields/);
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"results": [\n{"name": "A"},\n{"name": }\n]}');
    assert.throws(() => loadList(badJson), /bad\.json:3: not JSON/);
    assert.deepEqual(parseCsv('a,"b ""c"""\n"multi\nline",d\n', 'x').map((r) => [r.line, r.cells]), [[1, ['a', 'b "c"']], [2, ['multi\nline', 'd']]]);
  });
});

describe('matching', () => {
  test('transliterations, word order, aliases and diacritics', () => {
    assert.equal(fold('Сергей Иванов'), 'sergei ivanov');
    assert.equal(phoneticKey('muhammad'), phoneticKey('mohammed'));
    const cyr = index.screen({ id: 'a1', kind: 'account', name: 'Сергей Иванов', country: 'RU', type: 'individual' });
    assert.equal(cyr[0]!.entry.id, '10001');
    assert.equal(cyr[0]!.decision, 'hit');
    assert.equal(cyr[0]!.explanation.country, 'matches');
    const arabic = index.screen({ id: 'a2', kind: 'account', name: 'Muhammad Al Rashid', country: 'SY' });
    assert.equal(arabic[0]!.entry.id, '10002');
    assert.ok(arabic[0]!.explanation.pairings.some((p) => p.how === 'phonetic' && p.subject === 'muhammad' && p.entry === 'mohammed'), JSON.stringify(arabic[0]!.explanation));
    const alias = index.screen({ id: 'o1', kind: 'org', name: 'New Horizon Trading', type: 'entity' });
    assert.equal(alias[0]!.entry.id, '10003');
    assert.equal(alias[0]!.matchedName, 'NEW HORIZON TRADING CO');
    assert.equal(alias[0]!.decision, 'hit');
    const umlaut = index.screen({ id: 'a3', kind: 'account', name: 'Juergen Mueller', country: 'DE' });
    assert.equal(umlaut[0]!.entry.id, 'x9');
    assert.equal(umlaut[0]!.decision, 'hit');
  });

  test('a different country lowers the score; unrelated names do not match', () => {
    const home = index.screen({ id: 'a', kind: 'account', name: 'Sergey Ivanov', country: 'RU' })[0]!;
    const away = index.screen({ id: 'b', kind: 'account', name: 'Sergey Ivanov', country: 'BR' })[0]!;
    assert.equal(away.explanation.country, 'differs');
    assert.ok(away.score < home.score);
    assert.deepEqual(index.screen({ id: 'c', kind: 'account', name: 'Alice Johnson', country: 'US' }), []);
    assert.deepEqual(index.screen({ id: 'd', kind: 'org', name: 'Horizon Bakery' }).filter((m) => m.decision === 'hit'), []);
    assert.deepEqual(index.screen({ id: 'e', kind: 'account', name: 'Sergei Petrov' }).filter((m) => m.decision === 'hit'), []);
  });

  test('the CLI: hits exit 3 with explanations; a bad subjects file names its line', async () => {
    const subjects = join(dir, 'subjects.jsonl');
    writeFileSync(subjects, [JSON.stringify({ id: 'acct-1', name: 'Сергей Иванов', country: 'RU' }), JSON.stringify({ id: 'acct-2', name: 'Alice Johnson', country: 'US' }), JSON.stringify({ id: 'org-9', kind: 'org', name: 'New Horizon Trading', type: 'entity' })].join('\n') + '\n');
    let out = '';
    let err = '';
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), env: {} };
    assert.equal(await screeningCli(['screening', 'check', '--list', sdn, '--list', cslJson, '--subjects', subjects], io), 3, err);
    assert.match(out, /screened 3 subject\(s\) against 5 entries \(\d+ names\): 2 hit\(s\), 0 for review/);
    assert.match(out, /account acct-1 'Сергей Иванов' \(RU\)\n  HIT ofac-sdn:10001 'IVANOV, Sergei Petrovich'( \(alias 'IVANOV, Sergey'\))? \[RUSSIA-EO14024\] score [\d.]+: sergei~serge[iy] (exact|phonetic [\d.]+), ivanov~ivanov exact; coverage [\d.]+; country matches/);
    assert.match(out, /org org-9 'New Horizon Trading'\n  HIT ofac-sdn:10003 'NOVA HORIZON TRADING LLC' \(alias 'NEW HORIZON TRADING CO'\)/);
    writeFileSync(subjects, JSON.stringify({ id: 'x', name: 'A' }) + '\n' + JSON.stringify({ id: 'y', name: 'B', country: 'Atlantis' }) + '\n');
    err = '';
    assert.equal(await screeningCli(['screening', 'check', '--list', sdn, '--subjects', subjects], io), 2);
    assert.match(err, /subjects\.jsonl:2: country: 'Atlantis' is not a country/);
    out = '';
    assert.equal(await screeningCli(['screening', 'explain', '--list', sdn, '--name', 'Mohamad Alrashid', '--json'], io), 0);
    const r = JSON.parse(out);
    assert.equal(r.results[0].matches[0].entry.id, '10002');
  });
});

describe('screening runs against the store and the gateway enforces them', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: 'screening-admin' }, extra: { directives: { governedModels: ['frontier'] } } });
  });
  after(async () => {
    await h?.close();
  });
  const status = async (model: string) => {
    const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }) });
    const body = (await r.json()) as any;
    return { status: r.status, code: body.error?.code as string | undefined };
  };
  const until = async (model: string, want: number) => {
    for (let i = 0; i < 100; i++) {
      const s = await status(model);
      if (s.status === want) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    return status(model);
  };

  test('a hit blocks governed models until cleared, opens an incident and queues a review; re-screening only when a list changed', async () => {
    const subjects = join(dir, 'store-subjects.jsonl');
    writeFileSync(subjects, JSON.stringify({ id: 'acct-test', name: 'Sergey Ivanov', country: 'RU', type: 'individual' }) + '\n' + JSON.stringify({ id: 'acct-other', name: 'Alice Johnson', country: 'US' }) + '\n');
    let out = '';
    let err = '';
    const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s), env: {} };
    assert.equal((await status('frontier')).status, 200);
    assert.equal(await screeningCli(['screening', 'run', '--store', h.storeUrl, '--list', sdn, '--subjects', subjects], io), 0, err);
    assert.match(out, /screened 2 subject\(s\) \(lists updated: ofac-sdn\): 1 hit\(s\), 0 for review; 1 new hit\(s\) blocked for governed models pending review, incidents inc_/);
    const blocked = await until('frontier', 403);
    assert.deepEqual(blocked, { status: 403, code: 'denied_party_screening' });
    assert.equal((await status('lite')).status, 200, 'models no directive governs stay available');

    out = '';
    assert.equal(await screeningCli(['screening', 'results', '--store', h.storeUrl, '--status', 'pending', '--json'], io), 0, err);
    const [result] = JSON.parse(out).results;
    assert.equal(result.subjectId, 'acct-test');
    assert.equal(result.entryId, '10001');
    assert.ok(result.incidentId);
    assert.ok(result.explanation.pairings.length >= 2);
    const db = await openDb(h.storeUrl);
    try {
      const inc = await new IncidentRepository(db).get(result.incidentId);
      assert.equal(inc!.trigger, 'screening-hit');
      assert.deepEqual(inc!.principals, ['account:acct-test']);
    } finally {
      await db.close();
    }

    err = '';
    assert.equal(await screeningCli(['screening', 'review', result.id, '--store', h.storeUrl, '--decision', 'clear', '--by', 'compliance', '--why', 'different person (DOB)', '--version', '9'], io), 1);
    assert.match(err, /is at version 1, not 9/);
    const admin = (path: string, init: RequestInit = {}) => fetch(`${h.url}/admin/v1${path}`, { ...init, headers: { authorization: 'Bearer screening-admin', 'content-type': 'application/json' } });
    const pending = ((await (await admin('/screening/results?status=pending')).json()) as any).results;
    assert.deepEqual(pending.map((r: any) => r.id), [result.id]);
    assert.equal((await admin(`/screening/results/${result.id}/review`, { method: 'POST', body: JSON.stringify({ decision: 'maybe', by: 'x', why: 'y' }) })).status, 400);
    assert.equal((await admin('/screening/results/scr_nope/review', { method: 'POST', body: JSON.stringify({ decision: 'clear', by: 'x', why: 'y' }) })).status, 404);
    const reviewed = await admin(`/screening/results/${result.id}/review`, { method: 'POST', body: JSON.stringify({ decision: 'clear', by: 'compliance', why: 'different person (DOB)', version: 1 }) });
    assert.equal(reviewed.status, 200, await reviewed.clone().text());
    assert.equal(((await reviewed.json()) as any).result.status, 'cleared');
    const again = await admin(`/screening/results/${result.id}/review`, { method: 'POST', body: JSON.stringify({ decision: 'confirm', by: 'x', why: 'y', version: 1 }) });
    assert.equal(again.status, 409);
    assert.equal((await until('frontier', 200)).status, 200);

    out = '';
    assert.equal(await screeningCli(['screening', 'run', '--store', h.storeUrl, '--list', sdn, '--subjects', subjects, '--if-changed'], io), 0, err);
    assert.match(out, /no list changed since the last run: nothing screened/);
    appendFileSync(sdn, '10009,"PETROV, Anton","individual","RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n');
    out = '';
    assert.equal(await screeningCli(['screening', 'run', '--store', h.storeUrl, '--list', sdn, '--subjects', subjects, '--if-changed'], io), 0, err);
    assert.match(out, /lists updated: ofac-sdn.*0 new hit\(s\)/);
    assert.equal((await status('frontier')).status, 200, 'a cleared match stays cleared when the list is re-screened');
  });
});
