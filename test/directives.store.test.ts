import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Principal } from '../src/core/types.ts';
import { configSchema as directivesConfig } from '../src/directives/config.ts';
import { migrations as directiveMigrations } from '../src/directives/migrations.ts';
import { DirectiveRepository, DirectiveStateError } from '../src/directives/repository.ts';
import { DirectiveSync } from '../src/policy/sync.ts';
import { AccessControl } from '../src/policy/access-control.ts';
import { configSchema as policyConfig } from '../src/policy/config.ts';
import { LicenceStateError } from '../src/policy/licence-repository.ts';
import { migrations as policyMigrations } from '../src/policy/migrations.ts';
import { PolicyValidationError } from '../src/core/validation.ts';
import { ChangeWatcher } from '../src/store/changes.ts';
import { migrations as storeMigrations } from '../src/store/migrations.ts';
import { BACKENDS, openTestDb } from '../src/store/testing.ts';

const MIGRATIONS = [...storeMigrations, ...policyMigrations, ...directiveMigrations];
const MODELS = ['frontier', 'frontier-cyber', 'frontier-lite'];
const cn: Principal = { keyId: 'k', accountId: 'a-cn', orgId: 'labco', nationalities: ['CN'], residence: 'US', kyc: 'basic', programmes: [], tier: 'general', staff: false };
const us: Principal = { ...cn, accountId: 'a-us', orgId: null, nationalities: ['US'] };
const SUSPEND = { models: ['frontier'], population: { nationalities: { noneOf: ['US'] } }, effect: 'suspend', authority: 'BIS', reference: 'Order 17', by: 'alice', why: 'order received 09:00' };

function config(over: { staleAfterMs?: number; pollIntervalMs?: number } = {}) {
  return { policy: policyConfig.parse(undefined), directives: directivesConfig.parse({ pollIntervalMs: 50, ...over }) };
}

for (const backend of BACKENDS) {
  test(`${backend}: directives issue/amend/lift with history and revision bumps`, async () => {
    const t = await openTestDb(backend, MIGRATIONS);
    try {
      const repo = new DirectiveRepository(t.db);
      const d = await repo.issue({ ...SUSPEND, id: 'D1' });
      assert.equal(d.status, 'active');
      await assert.rejects(repo.issue({ ...SUSPEND, id: 'D1' }), /already exists/);
      await assert.rejects(repo.issue({ ...SUSPEND, population: { colour: 1 } }), (e: Error) => e instanceof PolicyValidationError && /population\.colour: unknown field/.test(e.message));
      const amended = await repo.amend('D1', { models: ['frontier', 'frontier-cyber'], by: 'bob', why: 'scope widened' });
      assert.deepEqual(amended.models, ['frontier', 'frontier-cyber']);
      const lifted = await repo.lift('D1', { by: 'carol', why: 'order rescinded' });
      assert.equal(lifted.status, 'lifted');
      await assert.rejects(repo.lift('D1', { by: 'carol', why: 'again' }), DirectiveStateError);
      await assert.rejects(repo.amend('nope', { reference: 'x', by: 'a', why: 'b' }), /no directive with id 'nope'/);
      const h = await repo.historyOf('D1');
      assert.deepEqual(h.map((x) => [x.action, x.by, x.why]), [['issue', 'alice', 'order received 09:00'], ['amend', 'bob', 'scope widened'], ['lift', 'carol', 'order rescinded']]);
      assert.deepEqual(h[1]!.before!.models, ['frontier']);
      const revs = await t.db.query<{ rev: number }>("SELECT rev FROM gh_revisions WHERE topic = 'directives'");
      assert.equal(Number(revs[0]!.rev), 3);
    } finally {
      await t.cleanup();
    }
  });

  test(`${backend}: concurrent amendments: one wins, the other fails loudly, history stays consistent`, async () => {
    const t = await openTestDb(backend, MIGRATIONS);
    try {
      const other = await t.openAnother();
      const a = new DirectiveRepository(t.db);
      const b = new DirectiveRepository(other);
      await a.issue({ ...SUSPEND, id: 'C' });
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).amend('C', { reference: `ref ${i}`, by: `u${i}`, why: 'race' })));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      assert.ok(ok >= 1);
      for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /changed concurrently|could not serialize|deadlock|busy|locked/i);
      const final = await a.get('C');
      const h = await a.historyOf('C');
      assert.equal(h.length, 1 + ok);
      assert.equal(h.at(-1)!.after.reference, final!.reference, 'last history entry matches the stored record');
    } finally {
      await t.cleanup();
    }
  });

  test(`${backend}: licences grant/list/revoke, and AccessControl cites them`, async () => {
    const t = await openTestDb(backend, MIGRATIONS);
    const ac = new AccessControl({ db: t.db, config: config(), models: MODELS });
    try {
      await ac.start();
      await ac.directivesRepo!.issue({ ...SUSPEND, id: 'R', effect: 'require-licence', population: { nationality: { anyOutside: ['US'] } } });
      await ac.refresh();
      assert.equal(ac.decide(cn, 'frontier').action, 'refuse');
      const lic = await ac.licencesRepo!.grant({ id: 'L1', licensee: { org: 'labco' }, models: ['frontier'], nationalities: ['CN'], validFrom: 0, validTo: Date.now() + 3_600_000, reference: 'D-55', authority: 'BIS', by: 'alice' });
      assert.equal(lic.licenseeType, 'org');
      await assert.rejects(ac.licencesRepo!.grant({ licensee: { org: 'x' }, models: ['frontierr'], nationalities: ['CN'], validFrom: 0, validTo: 1, reference: 'r', authority: 'a', by: 'b' }), /models\[0\]: unknown model 'frontierr'/);
      await ac.refresh();
      assert.deepEqual(ac.decide(cn, 'frontier'), { action: 'allow', ref: { directive: 'R', licence: 'L1' } });
      assert.deepEqual((await ac.licencesRepo!.list({ org: 'labco' })).map((l) => l.id), ['L1']);
      await ac.licencesRepo!.revoke('L1', 'bob', 'licence withdrawn');
      await assert.rejects(ac.licencesRepo!.revoke('L1', 'bob', 'again'), LicenceStateError);
      await ac.refresh();
      const v = ac.decide(cn, 'frontier');
      assert.equal(v.action === 'refuse' && v.code, 'licence_required');
      assert.equal(ac.decide(us, 'frontier').action, 'allow');
      assert.equal(ac.readiness.check().ok, true);
    } finally {
      await ac.close();
      await t.cleanup();
    }
  });
}

test('sqlite: fail closed when the store is unreachable longer than the bound, last directives kept', async () => {
  const t = await openTestDb('sqlite', MIGRATIONS);
  let now = Date.now();
  const ac = new AccessControl({ db: t.db, config: config({ staleAfterMs: 1000, pollIntervalMs: 10_000 }), models: MODELS, now: () => now });
  try {
    await ac.start();
    await ac.directivesRepo!.issue({ ...SUSPEND, id: 'S' });
    await ac.refresh();
    assert.equal(ac.decide(cn, 'frontier').action, 'refuse');
    await t.db.close(); // the store goes away
    await assert.rejects(ac.refresh());
    now += 500;
    let v = ac.decide(cn, 'frontier');
    assert.equal(v.action === 'refuse' && v.code, 'directive_suspended', 'last known directive still enforced');
    assert.equal(ac.decide(us, 'frontier').action, 'allow');
    now += 1000;
    v = ac.decide(us, 'frontier');
    assert.equal(v.action === 'refuse' && v.status, 503);
    assert.equal(v.action === 'refuse' && v.code, 'directives_stale');
    assert.equal(ac.decide(us, 'frontier-lite').action, 'allow', 'models no directive governs keep serving');
    assert.equal(ac.readiness.check().ok, false);
    assert.equal(ac.syncStatus().fresh, false);
  } finally {
    await ac.close();
    await t.cleanup();
  }
});

test('postgres: two DirectiveSync instances on separate connections see a directive within 1 s', async () => {
  const t = await openTestDb('postgres', MIGRATIONS);
  const syncs: DirectiveSync[] = [];
  const watchers: ChangeWatcher[] = [];
  try {
    const seen: Array<Map<string, number>> = [new Map(), new Map()];
    for (let i = 0; i < 2; i++) {
      const db = await t.openAnother();
      const watcher = new ChangeWatcher(db, { intervalMs: 0 });
      await watcher.start();
      watchers.push(watcher);
      const sync = new DirectiveSync(db, {
        watcher,
        pollIntervalMs: 500,
        onDirectives: (list) => {
          for (const d of list) if (!seen[i]!.has(d.id)) seen[i]!.set(d.id, Date.now());
        },
      });
      await sync.start();
      syncs.push(sync);
    }
    const writer = new DirectiveRepository(await t.openAnother());
    const lags: number[] = [];
    for (let n = 0; n < 5; n++) {
      const id = `P${n}`;
      const issuedAt = Date.now();
      await writer.issue({ ...SUSPEND, id });
      const deadline = Date.now() + 1000;
      while (!(seen[0]!.has(id) && seen[1]!.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      assert.ok(seen[0]!.has(id) && seen[1]!.has(id), `directive ${id} not seen by both replicas within 1 s`);
      lags.push(Math.max(seen[0]!.get(id)!, seen[1]!.get(id)!) - issuedAt);
    }
    assert.ok(Math.max(...lags) < 1000, `lags ${lags.join(', ')} ms`);
  } finally {
    for (const s of syncs) await s.stop();
    for (const w of watchers) await w.stop();
    await t.cleanup();
  }
});

test('postgres: concurrent issues, amendments and lifts from 3 writers leave 3 replicas agreeing with the store within 1 s', async () => {
  const t = await openTestDb('postgres', MIGRATIONS);
  const syncs: DirectiveSync[] = [];
  const watchers: ChangeWatcher[] = [];
  const views: string[] = ['', '', ''];
  const fingerprint = (list: Array<{ id: string; status: string; models: string[]; reference: string }>) =>
    JSON.stringify(list.map((d) => [d.id, d.status, d.models, d.reference]).sort());
  try {
    for (let i = 0; i < 3; i++) {
      const db = await t.openAnother();
      const watcher = new ChangeWatcher(db, { intervalMs: 0 });
      await watcher.start();
      watchers.push(watcher);
      const sync = new DirectiveSync(db, { watcher, pollIntervalMs: 250, onDirectives: (list) => (views[i] = fingerprint(list)) });
      await sync.start();
      syncs.push(sync);
    }
    const writers = [new DirectiveRepository(await t.openAnother()), new DirectiveRepository(await t.openAnother()), new DirectiveRepository(await t.openAnother())];
    for (let n = 0; n < 6; n++) await writers[0]!.issue({ ...SUSPEND, id: `X${n}` });
    const ops: Array<Promise<unknown>> = [];
    for (let k = 0; k < 30; k++) {
      const w = writers[k % 3]!;
      const id = `X${k % 6}`;
      const op = k % 5 === 4 ? w.lift(id, { by: `w${k % 3}`, why: 'race' }) : k % 3 === 0 ? w.issue({ ...SUSPEND, id: `Y${k}` }) : w.amend(id, { reference: `ref ${k}`, models: k % 2 ? ['frontier'] : ['frontier', 'frontier-cyber'], by: `w${k % 3}`, why: 'race' });
      ops.push(op.catch((err: Error) => err)); // conflicts and "already lifted" are expected outcomes
    }
    await Promise.all(ops);
    const done = Date.now();
    const truth = fingerprint(await writers[0]!.list());
    while (!views.every((v) => v === truth) && Date.now() - done < 1000) await new Promise((r) => setTimeout(r, 10));
    assert.ok(views.every((v) => v === truth), `replicas disagree with the store ${Date.now() - done} ms after the last change`);
    // History has one entry per successful change and the last entry of each directive matches the row.
    for (const d of await writers[0]!.list()) {
      const h = await writers[0]!.historyOf(d.id);
      assert.equal(h.at(-1)!.after.reference, d.reference);
      assert.equal(h.at(-1)!.after.status, d.status);
    }
  } finally {
    for (const s of syncs) await s.stop();
    for (const w of watchers) await w.stop();
    await t.cleanup();
  }
});
