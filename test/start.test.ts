/**
 * The demo as `npm start` runs it: the gateway says where to go next (URL, admin API state and the variable that
 * turns it on, how to create a key); the demo config turns the admin API on with GATEHOUSE_ADMIN_TOKEN; a signing
 * key made by `gatehouse audit keygen` seals checkpoints that `audit verify` checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServeProcess } from './support/process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A copy of config/ in a scratch directory: the demo's ../data then lands in the scratch directory too. */
function demoCopy(): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gh-start-'));
  cpSync(join(root, 'config'), join(dir, 'config'), { recursive: true });
  return { dir, config: join(dir, 'config', 'demo.yaml') };
}

async function banner(gw: ServeProcess): Promise<string> {
  for (let i = 0; i < 200 && !gw.output().includes('  help '); i++) await new Promise((r) => setTimeout(r, 25));
  return gw.output();
}

const cli = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });

test('the demo prints where to go next; the admin API is off without GATEHOUSE_ADMIN_TOKEN and on with it', { timeout: 60_000 }, async () => {
  const { dir, config } = demoCopy();
  try {
    const off = await serve(config, { GATEHOUSE_ADMIN_TOKEN: '' });
    try {
      const out = await banner(off);
      assert.ok(out.includes(`Gatehouse is listening on ${off.url}`), out);
      assert.match(out, /admin API {2}off: set GATEHOUSE_ADMIN_TOKEN to a secret token and restart/);
      assert.match(out, new RegExp(`keys create --config ${config.replace(/[.]/g, '\\.')} --account alice`));
      assert.equal((await fetch(`${off.url}/admin/v1/keys`)).status, 404);
    } finally {
      await off.stop();
    }
    const on = await serve(config, { GATEHOUSE_ADMIN_TOKEN: 'demo-admin-token-for-tests' });
    try {
      const out = await banner(on);
      assert.ok(out.includes(`admin API  on: ${on.url}/admin/v1/…  with  Authorization: Bearer $GATEHOUSE_ADMIN_TOKEN`), out);
      const r = await fetch(`${on.url}/admin/v1/keys`, { headers: { authorization: 'Bearer demo-admin-token-for-tests' } });
      assert.equal(r.status, 200);
    } finally {
      await on.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit keygen makes the signing key the demo config shows; checkpoints verify with its public half', { timeout: 60_000 }, async () => {
  const { dir, config } = demoCopy();
  try {
    const key = join(dir, 'data', 'audit-signing.pem');
    const out = cli('audit', 'keygen', '--out', key);
    assert.match(out, /public key: [A-Za-z0-9+/=]{40,}/);
    assert.equal(readFileSync(key, 'utf8').split('\n')[0], '-----BEGIN PRIVATE KEY-----');
    assert.throws(() => cli('audit', 'keygen', '--out', key), /already exists; pass --force/);
    // Uncomment the line the demo config shows (its path is relative to the config file).
    const text = readFileSync(config, 'utf8');
    assert.match(text, /^ {2}# signingKey: \.\.\/data\/audit-signing\.pem/m);
    writeFileSync(config, text.replace(/^ {2}# signingKey:/m, '  signingKey:'));
    assert.match(cli('config', 'check', config), /OK/);
    const gw = await serve(config, { GATEHOUSE_ADMIN_TOKEN: 'demo-admin-token-for-tests' });
    try {
      const created = await fetch(`${gw.url}/admin/v1/keys`, {
        method: 'POST',
        headers: { authorization: 'Bearer demo-admin-token-for-tests', 'content-type': 'application/json' },
        body: JSON.stringify({ accountId: 'alice', nationalities: ['US'], residence: 'US' }),
      });
      assert.equal(created.status, 201, await created.text());
    } finally {
      assert.equal(await gw.stop(), 0);
    }
    // SIGTERM sealed the records with a checkpoint signed by the new key.
    const verified = cli('audit', 'verify', '--config', config, '--public-key', `${key}.pub`);
    assert.match(verified, /audit verify OK: \d+ records/);
    assert.match(verified, /signatures verified/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
