import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextVault, retentionSchema } from '../src/audit/retention.ts';
import { configSchema } from '../src/audit/config.ts';

test('retention config: off by default, key required when on, key length checked', () => {
  assert.equal(configSchema.parse({}).retention.enabled, false);
  assert.throws(() => retentionSchema.parse({ enabled: true }), /retention.key is required/);
  const dir = mkdtempSync(join(tmpdir(), 'gh-ret-'));
  assert.throws(() => new TextVault(retentionSchema.parse({ enabled: true, key: Buffer.alloc(16).toString('base64'), dir })), /must be 32 bytes/);
  rmSync(dir, { recursive: true });
});

test('text is stored encrypted per day, read back, bound to its request id, and purged after `days`', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-ret-'));
  const key = randomBytes(32);
  const now = Date.parse('2026-04-20T12:00:00Z');
  const vault = new TextVault(retentionSchema.parse({ enabled: true, key: key.toString('base64'), days: 7, dir }), () => now);
  await vault.store('req-old', { prompt: 'old secret prompt' }, now - 10 * 86_400_000);
  await vault.store('req-1', { prompt: 'how do I bake bread', response: 'flour, water, salt' });
  assert.deepEqual(readdirSync(dir).sort(), ['2026-04-10.jsonl', '2026-04-20.jsonl']);
  const raw = readFileSync(join(dir, '2026-04-20.jsonl'), 'utf8');
  assert.ok(!raw.includes('bread'), 'ciphertext only');
  assert.deepEqual(await vault.read('req-1', now), { prompt: 'how do I bake bread', response: 'flour, water, salt' });
  assert.equal(await vault.read('req-missing'), null);
  // A ciphertext moved under another request id does not decrypt.
  const rec = JSON.parse(raw);
  assert.throws(() => vault.open('req-2', rec), /cannot be decrypted/);
  // Wrong key.
  const other = new TextVault(retentionSchema.parse({ enabled: true, key: randomBytes(32).toString('hex'), dir }), () => now);
  await assert.rejects(other.read('req-1'), /cannot be decrypted/);
  // Altered ciphertext.
  const data = Buffer.from(rec.data, 'base64');
  data[0] ^= 1;
  writeFileSync(join(dir, '2026-04-20.jsonl'), JSON.stringify({ ...rec, data: data.toString('base64') }) + '\n');
  await assert.rejects(vault.read('req-1'), /cannot be decrypted/);
  assert.deepEqual(await vault.purge(), ['2026-04-10.jsonl']);
  assert.deepEqual(readdirSync(dir), ['2026-04-20.jsonl']);
  rmSync(dir, { recursive: true });
});
