import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as directivesCli } from '../src/policy/directives-cli.ts';
import { KeyRepository } from '../src/identity/keys.ts';
import { run as policyCli } from '../src/policy/cli.ts';
import { run as licencesCli } from '../src/policy/licences-cli.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { migrate } from '../src/store/migrate.ts';
import { openDb } from '../src/store/open.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env: {} as NodeJS.ProcessEnv }, out, err, text: () => out.join(''), errText: () => err.join('') };
}

const POLICY = `
default: allow
rules:
  - id: embargo
    models: ['*']
    when: {nationality: {anyOf: ['group:embargoed']}}
    action: deny
    code: embargoed_nationality
  - id: cyber
    models: [frontier-cyber]
    action: require
    require: {programme: critical-infrastructure-defenders}
`;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-policy-cli-'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  writeFileSync(
    join(dir, 'gatehouse.yaml'),
    `store: {url: "sqlite:${join(dir, 'store.db')}"}\nmodels:\n  - {name: frontier, provider: sim, upstreamModel: x}\n  - {name: frontier-cyber, provider: sim, upstreamModel: y}\npolicy: {file: policy.yaml}\n`,
  );
  return { dir, config: join(dir, 'gatehouse.yaml'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('policy test: passing and failing expectations, exit codes, diff with file:line', async () => {
  const ws = workspace();
  try {
    writeFileSync(
      join(ws.dir, 'expect.yaml'),
      `policy: policy.yaml
at: 2026-11-23T12:00:00Z
principals:
  us: {nationalities: [US]}
  dual: {nationalities: [US, GB]}
  ir: {nationalities: [IR]}
  defender: {nationalities: [DE], orgId: grid-1, programmes: [critical-infrastructure-defenders]}
directives:
  - id: D1
    models: [frontier]
    population: {nationalities: {noneOf: [US]}}
    effect: suspend
cases:
  - {principal: us, model: frontier, expect: allow}
  - {principal: dual, model: frontier, expect: allow}
  - {principal: defender, model: frontier, expect: refuse:directive_suspended}
  - {principal: defender, model: frontier-cyber, expect: allow}
  - {principal: us, model: frontier-cyber, expect: {action: refuse, code: programme_required, rule: cyber}}
  - {principal: ir, model: frontier-cyber, expect: refuse:embargoed_nationality}
`,
    );
    const ok = io();
    assert.equal(await policyCli(['policy', 'test', join(ws.dir, 'expect.yaml'), '--config', ws.config], ok.io), 0, ok.text() + ok.errText());
    assert.match(ok.text(), /6 passed, 0 failed/);

    writeFileSync(join(ws.dir, 'wrong.yaml'), `policy: policy.yaml\ncases:\n  - {principal: {nationalities: [US]}, model: frontier, expect: allow}\n  - {principal: {nationalities: [IR]}, model: frontier, expect: allow}\n`);
    const bad = io();
    assert.equal(await policyCli(['policy', 'test', join(ws.dir, 'wrong.yaml'), '--config', ws.config], bad.io), 1);
    assert.match(bad.text(), /FAIL .*wrong\.yaml:4 /);
    assert.match(bad.text(), /- expected allow\n\s+\+ got\s+refuse:embargoed_nationality \(rule=embargo\)/);

    writeFileSync(join(ws.dir, 'invalid.yaml'), `cases:\n  - {principal: {nationalities: [UK]}, model: frontier, expect: maybe}\n`);
    const inv = io();
    assert.equal(await policyCli(['policy', 'test', join(ws.dir, 'invalid.yaml'), '--config', ws.config], inv.io), 2);
    assert.match(inv.errText(), /invalid\.yaml:2:\d+: cases\[0\]\.principal\.nationalities\[0\]: 'UK'/);
  } finally {
    ws.cleanup();
  }
});

test('policy check reports file:line errors; directives and licences CLIs round-trip; policy explain --key', async () => {
  const ws = workspace();
  try {
    writeFileSync(join(ws.dir, 'broken.yaml'), 'rules:\n  - id: a\n    models: [frontier]\n    action: allow\n    colour: red\n');
    const chk = io();
    assert.equal(await policyCli(['policy', 'check', join(ws.dir, 'broken.yaml'), '--config', ws.config], chk.io), 2);
    assert.match(chk.errText(), /broken\.yaml:5:5: rules\[0\]\.colour: unknown field 'colour'/);
    const good = io();
    assert.equal(await policyCli(['policy', 'check', '--config', ws.config], good.io), 0, good.errText());

    const iss = io();
    const code = await directivesCli(
      ['directives', 'issue', '--config', ws.config, '--id', 'D1', '--models', 'frontier,frontier-cyber', '--population', '{nationalities: {noneOf: [US]}}', '--effect', 'suspend', '--authority', 'BIS', '--reference', 'Order 17', '--by', 'alice', '--why', 'order received'],
      iss.io,
    );
    assert.equal(code, 0, iss.errText());
    const badIssue = io();
    assert.equal(await directivesCli(['directives', 'issue', '--config', ws.config, '--models', 'frontier', '--population', '{nationality: {noneOf: [XX]}}', '--effect', 'suspend', '--authority', 'BIS', '--reference', 'r', '--by', 'a', '--why', 'b'], badIssue.io), 2);
    assert.match(badIssue.errText(), /population\.nationality\.noneOf\[0\]: 'XX'/);
    const noWhy = io();
    assert.equal(await directivesCli(['directives', 'lift', 'D1', '--config', ws.config, '--by', 'bob'], noWhy.io), 2);
    assert.match(noWhy.errText(), /why: /);

    const grant = io();
    assert.equal(
      await licencesCli(['licences', 'grant', '--config', ws.config, '--id', 'L1', '--org', 'labco', '--models', 'frontier', '--nationalities', 'CN', '--valid-from', 'now', '--valid-to', '2030-01-01T00:00:00Z', '--reference', 'D-1', '--authority', 'BIS', '--by', 'ops'], grant.io),
      0,
      grant.errText(),
    );
    const ls = io();
    assert.equal(await licencesCli(['licences', 'list', '--config', ws.config], ls.io), 0);
    assert.match(ls.text(), /L1 +valid +org=labco/);

    const db = await openDb(`sqlite:${join(ws.dir, 'store.db')}`);
    await migrate(db, ALL_MIGRATIONS);
    const { key } = await new KeyRepository(db).create({ accountId: 'acct-uk', nationalities: ['GB'], staff: true });
    await db.close();
    const ex = io();
    assert.equal(await policyCli(['policy', 'explain', '--config', ws.config, '--key', key.id, '--model', 'frontier'], ex.io), 0, ex.errText());
    assert.match(ex.text(), /decision: refuse:directive_suspended \(directive=D1\)/);
    assert.match(ex.text(), /● D1 \[suspend, in-force\] nationality \[GB\] includes none of \{US\}/);

    const lift = io();
    assert.equal(await directivesCli(['directives', 'lift', 'D1', '--config', ws.config, '--by', 'bob', '--why', 'rescinded'], lift.io), 0, lift.errText());
    const show = io();
    assert.equal(await directivesCli(['directives', 'show', 'D1', '--config', ws.config], show.io), 0);
    assert.match(show.text(), /issue by alice: order received[\s\S]*lift by bob: rescinded/);
    const ex2 = io();
    assert.equal(await policyCli(['policy', 'explain', '--config', ws.config, '--account', 'acct-uk', '--model', 'frontier'], ex2.io), 0);
    assert.match(ex2.text(), /decision: allow/);
  } finally {
    ws.cleanup();
  }
});
