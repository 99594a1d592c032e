/**
 * The audit log through the gateway, beyond the decision record: keyed hashes of prompt and response, encrypted
 * text retention with its admin read path and purge, and a real full disk (a tiny tmpfs) — the request whose
 * record cannot be written is refused in its own protocol, nothing unaudited reaches a client, and the log
 * recovers by itself once space is back.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHmac } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { verifyAudit } from '../src/audit/verify.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';
import { addOperator, call, signIn } from './support/console.ts';

const execFileAsync = promisify(execFile);

const HASH_KEY = 'audit-test-hmac-key';
const RETENTION_KEY = Buffer.alloc(32, 7).toString('base64');
const ADMIN_TOKEN = 'admin-token-for-audit-tests';
const hmac = (text: string) => createHmac('sha256', HASH_KEY).update(text).digest('hex');
const records = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

describe('audit: keyed hashes and encrypted retention through the gateway', () => {
  let h: Harness;
  let dir: string;
  let auditPath: string;
  let textDir: string;
  before(async () => {
    dir = tempDir();
    auditPath = join(dir, 'audit', 'audit.jsonl');
    textDir = join(dir, 'audit', 'text');
    // A day file older than the retention period: purged at start-up, and the purge is audited.
    mkdirSync(textDir, { recursive: true });
    writeFileSync(join(textDir, '2020-01-01.jsonl'), '{"requestId":"ancient","time":0,"iv":"","tag":"","data":""}\n');
    h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
      extra: { audit: { path: auditPath, textHashKey: HASH_KEY, retention: { enabled: true, key: RETENTION_KEY, days: 7, dir: textDir } } },
    });
  });
  after(() => h.close());

  test('records carry HMACs of prompt and reply; the text is kept encrypted and read back through the admin API', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const { data, response } = await openai.chat.completions
      .create({ model: 'lite', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Name a prime number.' }] })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    const reply = data.choices[0]!.message.content!;

    const anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
    const stream = anthropic.messages.stream({ model: 'frontier', max_tokens: 64, messages: [{ role: 'user', content: 'Stream me a sentence about tides.' }] });
    const message = await stream.finalMessage();
    const streamedReply = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

    // Both records are durable by the time each client saw its response.
    const reqs = records(auditPath).filter((r) => r.kind === 'request');
    const plain = reqs.find((r) => r.requestId === requestId)!;
    assert.ok(plain, 'record of the non-streaming request');
    assert.equal(plain.promptHash, hmac('Be brief.\nName a prime number.'));
    assert.equal(plain.responseHash, hmac(reply));
    const streamed = reqs.find((r) => r.protocol === 'anthropic' && r.stream)!;
    assert.equal(streamed.promptHash, hmac('\nStream me a sentence about tides.'));
    assert.equal(streamed.responseHash, hmac(streamedReply));

    // Only ciphertext on disk; the log itself holds no text either.
    const onDisk = readdirSync(textDir).map((f) => readFileSync(join(textDir, f), 'utf8')).join('');
    assert.ok(!onDisk.includes('prime') && !onDisk.includes('tides'));
    assert.ok(!readFileSync(auditPath, 'utf8').includes('prime'));

    // The group-commit counters: every durable record was carried by some durable write.
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    const durable = counter('gatehouse_audit_records_total');
    assert.ok(durable >= reqs.length && durable <= records(auditPath).length, `records_total ${durable}`);
    const writes = counter('gatehouse_audit_writes_total');
    assert.ok(writes >= 1 && writes <= durable, `writes_total ${writes}`);

    const get = (id: string, token = ADMIN_TOKEN) => fetch(`${h.url}/admin/v1/audit/text/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const got = (await (await get(requestId)).json()) as Record<string, any>;
    assert.equal(got.prompt, 'Be brief.\nName a prime number.');
    assert.equal(got.response, reply);
    assert.deepEqual(got.conversation, { system: 'Be brief.', turns: [{ role: 'user', text: 'Name a prime number.' }] });
    const gotStreamed = (await (await get(streamed.requestId)).json()) as Record<string, any>;
    assert.equal(gotStreamed.response, streamedReply);
    assert.equal(hmac(gotStreamed.prompt), streamed.promptHash, 'retained prompt is the text the hash covers');

    assert.equal((await get('no-such-request')).status, 404);
    assert.equal((await get(requestId, 'wrong-token')).status, 401);
    // Every read of retained text is itself on the record.
    await new Promise((r) => setTimeout(r, 50));
    const reads = records(auditPath).filter((r) => r.kind === 'admin' && r.action === 'retention.read');
    assert.deepEqual(reads.map((r) => [r.target, r.details.found]), [[requestId, true], [streamed.requestId, true], ['no-such-request', false]]);
    assert.deepEqual([...new Set(reads.map((r) => r.actor))], ['admin-api']);

    // A signed-in operator's read is attributed to them; an analyst may not read prompt text at all.
    await addOperator(h.storeUrl, 'ada', 'admin');
    await addOperator(h.storeUrl, 'andy', 'analyst');
    assert.equal((await call(h.url, 'GET', `/audit/text/${requestId}`, { session: await signIn(h.url, 'ada') })).status, 200);
    const denied = await call(h.url, 'GET', `/audit/text/${requestId}`, { session: await signIn(h.url, 'andy') });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.type, 'forbidden');
    await new Promise((r) => setTimeout(r, 50));
    const byAda = records(auditPath).filter((r) => r.kind === 'admin' && r.action === 'retention.read' && r.actor === 'ada');
    assert.deepEqual(byAda.map((r) => r.target), [requestId]);
  });

  test('a refused request keeps its prompt (no reply, no response hash); old days are purged and the purge audited', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const failed = await openai.chat.completions.create({ model: 'all-500', messages: [{ role: 'user', content: 'This upstream always fails.' }] }).then(
      () => assert.fail('all-500 cannot succeed'),
      (e: InstanceType<typeof OpenAI.APIError>) => e,
    );
    const id = failed.headers!.get('x-request-id')!;
    const rec = records(auditPath).find((r) => r.requestId === id)!;
    assert.equal(rec.status, 502);
    assert.equal(rec.responseHash, undefined);
    const got = (await (await fetch(`${h.url}/admin/v1/audit/text/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Record<string, any>;
    assert.equal(got.prompt, '\nThis upstream always fails.');
    assert.equal(got.response, '');

    assert.ok(!readdirSync(textDir).includes('2020-01-01.jsonl'));
    const purge = records(auditPath).find((r) => r.kind === 'admin' && r.action === 'retention.purged')!;
    assert.deepEqual(purge.details.files, ['2020-01-01.jsonl']);
    assert.equal((await verifyAudit(auditPath)).ok, true);
  });
});

/** Mounts a tmpfs of `bytes` at a new directory; null when this process may not mount (not root). */
function mountTinyDisk(bytes: number): string | null {
  const dir = tempDir('gatehouse-tinydisk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch {
    return null;
  }
}

/** Fills the file system at `dir` until it has no free block left. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4096'], { stdio: 'pipe' });
  } catch {
    // dd exits non-zero with ENOSPC: exactly what was wanted
  }
  return filler;
}

const tinyDisk = mountTinyDisk(1 << 20);

describe('audit: a full disk through the gateway', { skip: tinyDisk ? false : 'needs root to mount a tmpfs' }, () => {
  let h: Harness;
  let auditPath: string;
  before(async () => {
    auditPath = join(tinyDisk!, 'audit.jsonl');
    h = await startHarness({ backend: 'sqlite', extra: { audit: { path: auditPath, retryIntervalMs: 100 } } });
  });
  after(async () => {
    await h.close();
    execFileSync('umount', [tinyDisk!]);
    rmSync(tinyDisk!, { recursive: true, force: true });
  });

  test('the request whose record cannot be written is refused (503 audit_unavailable), later ones too, and service resumes once space is back', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const served: string[] = [];
    const ask = async (stream: boolean): Promise<'ok' | number> => {
      try {
        if (stream) {
          const { data, response } = await openai.chat.completions.create({ model: 'lite', stream: true, messages: [{ role: 'user', content: 'hello' }] }).withResponse();
          let text = '';
          for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
          assert.ok(text.length > 0);
          served.push(response.headers.get('x-request-id')!);
        } else {
          const { response } = await openai.chat.completions.create({ model: 'lite', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
          served.push(response.headers.get('x-request-id')!);
        }
        return 'ok';
      } catch (e) {
        const err = e as InstanceType<typeof OpenAI.APIError>;
        assert.equal(err.code ?? (err.error as { code?: string } | undefined)?.code, 'audit_unavailable', String(e));
        return err.status ?? 503;
      }
    };
    assert.equal(await ask(false), 'ok');
    const filler = fillDisk(tinyDisk!);

    // The first failures are mid-request (the log was healthy when the request started); the reply is withheld.
    for (const stream of [false, true]) {
      const outcomes: ('ok' | number)[] = [];
      for (let i = 0; i < 40 && !outcomes.includes(503); i++) outcomes.push(await ask(stream));
      assert.ok(outcomes.includes(503), `a ${stream ? 'streaming' : 'non-streaming'} request was refused once the disk was full: ${outcomes.join(',')}`);
      assert.equal(await ask(stream), 503, 'refused while the log is unwritable');
      // The same refusal in Anthropic's format for Anthropic callers.
      const anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
      await assert.rejects(anthropic.messages.create({ model: 'lite', max_tokens: 16, stream, messages: [{ role: 'user', content: 'hello' }] }), (e: InstanceType<typeof Anthropic.APIError>) => {
        assert.equal(e.status, 503);
        assert.deepEqual(Object.keys(e.error as object).sort(), ['error', 'type']);
        const body = e.error as { type: string; error: { type: string; message: string } };
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'overloaded_error');
        assert.match(body.error.message, /refuses to serve unaudited/);
        return true;
      });
      const ready = await fetch(`${h.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(await ready.text(), /audit log unwritable: .*ENOSPC|no space/i);
      if (!stream) {
        // Free space, wait for the retry to record the outage, then fill again for the streaming round.
        rmSync(filler);
        await waitFor(async () => (await fetch(`${h.url}/readyz`)).status === 200);
        assert.equal(await ask(false), 'ok');
        fillDisk(tinyDisk!);
      }
    }
    rmSync(filler);
    await waitFor(async () => (await fetch(`${h.url}/readyz`)).status === 200);
    assert.equal(await ask(true), 'ok');

    // Nothing a client received is missing from the log, and the chain is intact across both outages.
    const inLog = new Set(records(auditPath).filter((r) => r.kind === 'request').map((r) => r.requestId));
    for (const id of served) assert.ok(inLog.has(id), `served request ${id} has its record`);
    const recoveries = records(auditPath).filter((r) => r.kind === 'system' && r.event === 'audit_write_recovered');
    assert.equal(recoveries.length, 2);
    assert.match(recoveries[0]!.error, /ENOSPC|no space/i);
    assert.equal((await verifyAudit(auditPath)).ok, true);
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

for (const backend of BACKENDS) describe(`audit: admin actions taken with the CLI reach the running gateway's log through the store (${backend})`, () => {
  let h: Harness;
  let auditPath: string;
  before(async () => {
    auditPath = join(tempDir(), 'audit.jsonl');
    h = await startHarness({ backend, env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: auditPath } } });
  });
  after(() => h.close());

  // Asynchronous: `keys` commands wait for the running gateway (this process) to confirm their change.
  const cli = async (...args: string[]) => (await execFileAsync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' })).stdout;

  test('keys create/revoke and directives issue/lift by CLI are admin records, attributed to the CLI user', async () => {
    const created = JSON.parse(await cli('keys', 'create', '--config', h.configPath, '--account', 'cli-made', '--kyc', 'basic', '--json')) as { key: { id: string } };
    const keyId = created.key.id;
    await cli('keys', 'revoke', keyId, '--reason', 'test over', '--config', h.configPath);
    await cli('directives', 'issue', '--config', h.configPath, '--id', 'dir-cli-1', '--models', 'lite', '--effect', 'suspend', '--authority', 'Test order', '--reference', 'T-1', '--by', 'alice', '--why', 'drill');
    await cli('directives', 'lift', 'dir-cli-1', '--config', h.configPath, '--by', 'alice', '--why', 'drill over');
    const wanted = [['key.created', keyId], ['key.revoked', keyId], ['directive.issued', 'dir-cli-1'], ['directive.lifted', 'dir-cli-1']];
    // The gateway runs while the CLI does, so records it makes of its own (an incident a directive opens) can fall in
    // between: the CLI's own actions are the ones asserted, in order.
    const fromCli = () => records(auditPath).filter((r) => r.kind === 'admin' && r.details?.source === 'inbox' && /^(key|directive)\./.test(r.action));
    await waitFor(async () => fromCli().length >= wanted.length);
    const admin = fromCli();
    assert.deepEqual(admin.map((r) => [r.action, r.target]), wanted, 'in the order they happened');
    for (const r of admin) assert.match(r.actor, /^cli:[^@]+@/);
    assert.match(admin[2]!.actor, /\(alice\)$/);
    assert.equal(admin[1]!.details.reason, 'test over');
    assert.equal((await verifyAudit(auditPath)).ok, true);
    // Delivered once and removed from the inbox.
    const left = await (await import('../src/store/open.ts')).openDb(h.storeUrl);
    assert.equal(Number((await left.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_inbox'))[0]!.n), 0);
    await left.close();
  });

  test('the same actions through the admin API: the call and the domain event are both on the record', async () => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const created = (await (await fetch(`${h.url}/admin/v1/keys`, { method: 'POST', headers, body: JSON.stringify({ accountId: 'api-made' }) })).json()) as { key: { id: string } };
    const res = await fetch(`${h.url}/admin/v1/keys/${created.key.id}?reason=rotated`, { method: 'DELETE', headers: { authorization: headers.authorization } });
    assert.equal(res.status, 200);
    const mine = () => records(auditPath).filter((r) => r.kind === 'admin' && r.target === created.key.id);
    const calls = () => records(auditPath).filter((r) => r.kind === 'admin' && r.actor === 'admin-api' && String(r.action).startsWith('admin.'));
    // The call's record is appended after its response went out (the admin hook does not hold the reply), so it may
    // land after the domain events that came through the inbox: wait for both.
    await waitFor(async () => mine().length >= 2 && calls().length >= 2);
    assert.deepEqual(mine().map((r) => [r.action, r.actor, r.details.source]), [['key.created', 'admin-api', 'inbox'], ['key.revoked', 'admin-api', 'inbox']]);
    assert.deepEqual(calls().map((r) => [r.action, r.target]), [['admin.post', '/admin/v1/keys'], ['admin.delete', `/admin/v1/keys/${created.key.id}`]]);
  });
});
