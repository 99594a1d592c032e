import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = resolve('scripts/check-deps.mjs');

async function check(root?: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [script, ...(root ? ['--root', root] : [])], { encoding: 'utf8' });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A scratch copy of src/ with `line` appended to `file`. */
function withBadImport(file: string, line: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-arch-'));
  cpSync(resolve('src'), join(dir, 'src'), { recursive: true });
  appendFileSync(join(dir, 'src', file), `\n${line}\n`);
  return dir;
}

test('the real tree follows the dependency rules', async () => {
  const r = await check();
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /no dependency violations found \((\d{3,}) modules/);
});

test('directives importing policy (a capability arrow and a cycle) fails the check', async () => {
  const dir = withBadImport('directives/model.ts', "import type { AccessSnapshot } from '../policy/snapshot.ts';");
  try {
    const r = await check(dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /no-capability-to-capability:directives: src\/directives\/model\.js → src\/policy\/snapshot\.js/);
    assert.match(r.out, /no-circular/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store importing a capability fails the check', async () => {
  const dir = withBadImport('store/migrate.ts', "import { migrations } from '../meter/migrations.ts';");
  try {
    const r = await check(dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /store-is-ground-floor: src\/store\/migrate\.js → src\/meter\/migrations\.js/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
