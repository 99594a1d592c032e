/** `gatehouse programmes …` in-process against a real SQLite store: the lifecycle, its audit rows, and bad input. */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestDb, type TestDb } from '../src/store/testing.ts';
import { run } from '../src/programmes/cli.ts';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

describe('gatehouse programmes CLI on sqlite', () => {
  let t: TestDb;
  let dir: string;
  let config: string;
  before(async () => {
    t = await openTestDb('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'gh-programmes-cli-'));
    config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, `store:\n  url: ${t.url}\nprogrammes:\n  names: [critical-infrastructure-defenders, verified-cyber-research]\n`);
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const code = await run(['programmes', ...args], { out: (s) => (stdout += s), err: (s) => (stderr += s), env: { DATABASE_URL: '' } });
    return { code, stdout, stderr };
  }

  test('apply → list → grant → show → revoke, each step audited as the CLI user', async () => {
    const applied = await cli('apply', 'critical-infrastructure-defenders', '--config', config, '--org', 'grid-co', '--evidence', 'operates a regional grid', '--link', 'https://grid.example/charter', '--json');
    assert.equal(applied.code, 0, applied.stderr);
    const app = JSON.parse(applied.stdout) as { id: string; status: string; subject: { kind: string; id: string }; evidence: { links: string[] } };
    assert.match(app.id, /^prg_/);
    assert.equal(app.status, 'applied');
    assert.deepEqual(app.subject, { kind: 'org', id: 'grid-co' });
    assert.deepEqual(app.evidence.links, ['https://grid.example/charter']);

    const listed = await cli('list', '--store', t.url, '--status', 'applied');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${app.id}  applied   critical-infrastructure-defenders  org:grid-co\\n$`));
    assert.equal((await cli('list', '--store', t.url, '--status', 'granted')).stdout, 'no programme applications\n');

    const expires = Date.now() + 30 * 86_400_000;
    const granted = await cli('grant', app.id, '--store', t.url, '--by', 'alice', '--expires', new Date(expires).toISOString(), '--tier', 'trusted-defender', '--reason', 'charter checked');
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, `granted application ${app.id} (critical-infrastructure-defenders for org:grid-co) until ${new Date(expires).toISOString()}\n`);

    const shown = await cli('show', app.id, '--config', config);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^status +granted$/m);
    assert.match(shown.stdout, /^tier +trusted-defender$/m);
    assert.match(shown.stdout, /^decided +\S+ by alice$/m);
    assert.match(shown.stdout, new RegExp(`^expires +${new Date(expires).toISOString()}$`, 'm'));

    // A second grant of the same application is a conflict: exit 1, nothing changed.
    const again = await cli('grant', app.id, '--store', t.url, '--by', 'bob', '--expires', '10d');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `gatehouse programmes grant: application '${app.id}' is granted; grant needs it applied\n`);

    const revoked = await cli('revoke', app.id, '--store', t.url, '--by', 'carol', '--reason', 'charter lapsed', '--json');
    assert.equal(revoked.code, 0, revoked.stderr);
    const after = JSON.parse(revoked.stdout) as { status: string; decidedBy: string; reason: string };
    assert.deepEqual([after.status, after.decidedBy, after.reason], ['revoked', 'carol', 'charter lapsed']);

    const rows = await t.db.query<{ action: string; actor: string; target: string; details: string }>('SELECT action, actor, target, details FROM audit_inbox ORDER BY id');
    const mine = rows.filter((r) => r.action.startsWith('programme.'));
    assert.deepEqual(mine.map((r) => r.action), ['programme.applied', 'programme.granted', 'programme.revoked']);
    for (const r of mine) {
      assert.match(r.actor, /^cli:.+@.+$/);
      assert.equal(r.target, 'org:grid-co');
      assert.equal((JSON.parse(r.details) as { application: string }).application, app.id);
    }
    assert.equal((JSON.parse(mine[1]!.details) as { by: string; expiresAt: number }).expiresAt, expires);
  });

  test('bad input: exact exit codes and messages, and the store is left unchanged', async () => {
    const before = (await t.db.query('SELECT COUNT(*) AS n FROM audit_inbox'))[0]!.n;

    const unknownId = await cli('show', 'prg_nope', '--store', t.url);
    assert.deepEqual(unknownId, { code: 1, stdout: '', stderr: "gatehouse programmes show: no programme application 'prg_nope'\n" });
    const grantUnknown = await cli('grant', 'prg_nope', '--store', t.url, '--by', 'alice', '--expires', '30d');
    assert.deepEqual(grantUnknown, { code: 1, stdout: '', stderr: "gatehouse programmes grant: no programme application 'prg_nope'\n" });

    const applied = await cli('apply', 'verified-cyber-research', '--config', config, '--account', 'acct-1', '--evidence', 'publishes CVEs', '--json');
    assert.equal(applied.code, 0, applied.stderr);
    const id = (JSON.parse(applied.stdout) as { id: string }).id;

    const noExpires = await cli('grant', id, '--store', t.url, '--by', 'alice');
    assert.equal(noExpires.code, 2);
    assert.ok(noExpires.stderr.startsWith('gatehouse programmes grant: grant needs --expires TIME (when the grant ends)\n\nusage: gatehouse programmes'), noExpires.stderr);

    const badDate = await cli('grant', id, '--store', t.url, '--by', 'alice', '--expires', '2026-13-45');
    assert.equal(badDate.code, 2);
    assert.ok(badDate.stderr.startsWith('gatehouse programmes grant: --expires: expected an ISO 8601 time with offset (e.g. 2026-11-23T14:00:00Z) or epoch milliseconds, got "2026-13-45"\n'), badDate.stderr);

    const past = await cli('grant', id, '--store', t.url, '--by', 'alice', '--expires', '2020-01-01T00:00:00Z');
    assert.equal(past.code, 2);
    assert.ok(past.stderr.startsWith('gatehouse programmes grant: --expires: 2020-01-01T00:00:00.000Z is not in the future\n'), past.stderr);

    const unknownProgramme = await cli('apply', 'moon-base', '--config', config, '--account', 'acct-1', '--evidence', 'x');
    assert.equal(unknownProgramme.code, 2);
    assert.ok(unknownProgramme.stderr.startsWith("gatehouse programmes apply: unknown programme 'moon-base' (expected one of critical-infrastructure-defenders, verified-cyber-research)\n"), unknownProgramme.stderr);

    const noConfig = await cli('apply', 'verified-cyber-research', '--store', t.url, '--account', 'acct-1', '--evidence', 'x');
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /unknown programme 'verified-cyber-research': no programmes are configured/);

    const rejectNoReason = await cli('reject', id, '--store', t.url, '--by', 'alice');
    assert.equal(rejectNoReason.code, 2);
    assert.ok(rejectNoReason.stderr.startsWith('gatehouse programmes reject: --reason is required (a non-empty text)\n'), rejectNoReason.stderr);

    const badStatus = await cli('list', '--store', t.url, '--status', 'pending');
    assert.equal(badStatus.code, 2);
    assert.ok(badStatus.stderr.startsWith("gatehouse programmes list: --status: expected one of applied, granted, rejected, revoked, got 'pending'\n"), badStatus.stderr);

    const unknownFlag = await cli('list', '--store', t.url, '--colour');
    assert.equal(unknownFlag.code, 2);
    assert.match(unknownFlag.stderr, /^gatehouse programmes list: Unknown option '--colour'/);

    const unknownSub = await cli('approve', id);
    assert.equal(unknownSub.code, 2);
    assert.ok(unknownSub.stderr.startsWith("gatehouse programmes approve: unknown subcommand 'approve'\n"), unknownSub.stderr);

    const bare = await cli();
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^usage: gatehouse programmes/);
    const help = await cli('grant', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: gatehouse programmes/);

    // Only the one successful apply was recorded; the application is still open.
    const afterCount = (await t.db.query('SELECT COUNT(*) AS n FROM audit_inbox'))[0]!.n;
    assert.equal(Number(afterCount), Number(before) + 1);
    const shown = await cli('show', id, '--store', t.url, '--json');
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, 'applied');

    const rejected = await cli('reject', id, '--store', t.url, '--by', 'alice', '--reason', 'no publications found');
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.equal(rejected.stdout, `rejected application ${id} (verified-cyber-research for account:acct-1)\n`);
  });
});
