import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCascade, type Stage } from '../src/classify/cascade.ts';
import { createGuardStage, parseGuardReply } from '../src/classify/guard.ts';
import { createOnnxStage, loadOnnxRuntime, OnnxRuntimeMissingError } from '../src/classify/onnx.ts';
import { createShadow } from '../src/classify/shadow.ts';
import { decideAction } from '../src/classify/decide.ts';
import { parseClassifyConfig } from '../src/classify/config.ts';
import { ALL_LABELS, type Scores } from '../src/classify/labels.ts';
import { FeatureHasher } from '../src/classify/features.ts';
import { featurize } from '../src/classify/pipeline.ts';

const S = (o: Partial<Scores>): Scores => ({ ...(Object.fromEntries(ALL_LABELS.map((l) => [l, 0])) as Scores), benign: 0.5, ...o });
const conv = { system: null, turns: [{ role: 'user' as const, text: 'hello there' }] };
const config = parseClassifyConfig({});

test('cascade escalates only uncertain cases and lets the stage decide its labels', async () => {
  let calls = 0;
  const stage: Stage = { name: 'strong', score: async () => (calls++, { 'bio-chem': 0.95 }) };
  const step = { stage, labels: ['bio-chem'] as const, band: [0.1, 0.6] as const, timeoutMs: 500 };
  const sure = await runCascade(conv, () => S({ 'bio-chem': 0.01 }), [step]);
  assert.deepEqual([sure.escalated, calls, sure.scores['bio-chem']], [[], 0, 0.01]);
  const unsure = await runCascade(conv, () => S({ 'bio-chem': 0.3 }), [step]);
  assert.deepEqual([unsure.escalated, calls, unsure.scores['bio-chem']], [['strong'], 1, 0.95]);
  assert.equal(decideAction(unsure.scores, 'general', config).action, 'refuse');
});

test('a failing or slow stage makes its labels follow their fail mode (refuse labels fail closed)', async () => {
  const slow: Stage = { name: 'slow', score: () => new Promise((r) => setTimeout(() => r({ 'bio-chem': 0 }), 2000).unref()) };
  const r = await runCascade(conv, () => S({ 'bio-chem': 0.3 }), [{ stage: slow, labels: ['bio-chem'], band: [0.1, 0.6], timeoutMs: 50 }]);
  assert.match(r.errors[0], /slow: timed out after 50 ms/);
  const v = decideAction(r.scores, 'general', config);
  assert.equal(v.action === 'refuse' && v.status, 503);
  const broken: Stage = { name: 'broken', score: async () => ({ coding: 0.2 }) };
  const cfg = parseClassifyConfig({ tiers: { general: { 'security-defensive': { action: 'route:older', threshold: 0.5 } } } });
  const r2 = await runCascade(conv, () => S({ 'security-defensive': 0.5 }), [{ stage: broken, labels: ['security-defensive'], band: [0.4, 0.6], timeoutMs: 500 }]);
  assert.match(r2.errors[0], /no valid score for security-defensive/);
  assert.equal(decideAction(r2.scores, 'general', cfg).action, 'allow'); // route label fails open
});

test('guard reply parsing: Llama Guard 3/4 and Qwen3Guard', () => {
  assert.deepEqual(parseGuardReply('llama-guard-3', 'safe'), { unsafe: 0, categories: [] });
  assert.deepEqual(parseGuardReply('llama-guard-4', '\n\nunsafe\nS9,S14'), { unsafe: 1, categories: ['S9', 'S14'] });
  assert.deepEqual(parseGuardReply('qwen3guard', 'Safety: Controversial\nCategories: Jailbreak'), { unsafe: 0.5, categories: ['Jailbreak'] });
  assert.deepEqual(parseGuardReply('qwen3guard', 'Safety: Safe\nCategories: None'), { unsafe: 0, categories: [] });
  assert.throws(() => parseGuardReply('llama-guard-3', 'I think it is fine'), /unparseable/);
  assert.throws(() => parseGuardReply('qwen3guard', 'ok'), /unparseable/);
});

// A fake OpenAI-compatible endpoint: POST /v1/chat/completions, replies chosen per test through `reply`.
let reply: (body: any) => { status?: number; content?: string; delayMs?: number } = () => ({ content: 'safe' });
const requests: any[] = [];
const server: Server = createServer((req, res) => {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse(data);
    requests.push({ headers: req.headers, body });
    const r = reply(body);
    const send = () => {
      if (r.status && r.status !== 200) {
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'boom', type: 'server_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: r.content }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } }),
      );
    };
    if (r.delayMs) setTimeout(send, r.delayMs);
    else send();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
after(() => {
  server.closeAllConnections();
  server.close();
});

test('guard stage speaks the OpenAI chat protocol and maps categories to labels', async () => {
  const stage = createGuardStage({ baseUrl: base, model: 'llama-guard-3-8b', format: 'llama-guard-3', apiKey: 'k', labels: ['bio-chem', 'security-offensive', 'violent-crimes', 'self-harm'] });
  reply = () => ({ content: 'unsafe\nS9' });
  const s = await stage.score({ system: 'sys', turns: [{ role: 'user', text: 'q' }, { role: 'assistant', text: 'a' }, { role: 'user', text: 'q2' }] }, AbortSignal.timeout(1000));
  assert.deepEqual(s, { 'bio-chem': 1, 'security-offensive': 0, 'violent-crimes': 0, 'self-harm': 0 });
  const last = requests.at(-1);
  assert.equal(last.headers.authorization, 'Bearer k');
  assert.equal(last.body.model, 'llama-guard-3-8b');
  assert.deepEqual(last.body.messages, [{ role: 'user', content: 'sys\n\nq' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'q2' }]);
  reply = () => ({ content: 'safe' });
  assert.deepEqual(await stage.score(conv, AbortSignal.timeout(1000)), { 'bio-chem': 0, 'security-offensive': 0, 'violent-crimes': 0, 'self-harm': 0 });
  // MLCommons codes map onto the taxonomy: S1 violent crimes, S11 suicide & self-harm
  reply = () => ({ content: 'unsafe\nS1,S11' });
  assert.deepEqual(await stage.score(conv, AbortSignal.timeout(1000)), { 'bio-chem': 0, 'security-offensive': 0, 'violent-crimes': 1, 'self-harm': 1 });
  const qwen = createGuardStage({ baseUrl: base, model: 'qwen3guard', format: 'qwen3guard', labels: ['jailbreak', 'self-harm'] });
  reply = () => ({ content: 'Safety: Unsafe\nCategories: Jailbreak' });
  assert.deepEqual(await qwen.score(conv, AbortSignal.timeout(1000)), { jailbreak: 1, 'self-harm': 0 });
});

test('guard stage in a cascade: HTTP errors, garbage and timeouts fail closed for refuse labels', async () => {
  const stage = createGuardStage({ baseUrl: base, model: 'g', format: 'llama-guard-4', labels: ['bio-chem'] });
  const step = { stage, labels: ['bio-chem'] as const, band: [0.05, 0.9] as const, timeoutMs: 150 };
  for (const [r, msg] of [[{ status: 500 }, /HTTP 500/], [{ content: 'dunno' }, /unparseable/], [{ content: 'safe', delayMs: 600 }, /timed out|abort/i]] as const) {
    reply = () => r;
    const out = await runCascade(conv, () => S({ 'bio-chem': 0.3 }), [step]);
    assert.match(out.errors[0] ?? '', msg);
    assert.equal(decideAction(out.scores, 'general', config).action === 'refuse' && (decideAction(out.scores, 'general', config) as { status: number }).status, 503);
  }
  reply = () => ({ content: 'safe' });
  const ok = await runCascade(conv, () => S({ 'bio-chem': 0.3 }), [step]);
  assert.deepEqual([ok.errors, ok.scores['bio-chem']], [[], 0]);
});

// --- a tiny ONNX model written by hand: output = Sigmoid(input · W), input [1, D], W [D, 2] ---
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const fVarint = (field: number, v: number) => [...varint(field << 3), ...varint(v)];
const fBytes = (field: number, b: number[] | Buffer) => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const fStr = (field: number, s: string) => fBytes(field, Buffer.from(s, 'utf8'));
function valueInfo(name: string, dims: number[]) {
  const shape = dims.flatMap((d) => fBytes(1, fVarint(1, d)));
  const tensorType = [...fVarint(1, 1), ...fBytes(2, shape)];
  return [...fStr(1, name), ...fBytes(2, fBytes(1, tensorType))];
}
function tinyOnnx(D: number, W: Float32Array): Buffer {
  const init = [...fVarint(1, D), ...fVarint(1, 2), ...fVarint(2, 1), ...fStr(8, 'W'), ...fBytes(9, Buffer.from(W.buffer))];
  const mm = [...fStr(1, 'input'), ...fStr(1, 'W'), ...fStr(2, 'z'), ...fStr(3, 'mm'), ...fStr(4, 'MatMul')];
  const sg = [...fStr(1, 'z'), ...fStr(2, 'output'), ...fStr(3, 'sig'), ...fStr(4, 'Sigmoid')];
  const graph = [...fBytes(1, mm), ...fBytes(1, sg), ...fStr(2, 'g'), ...fBytes(5, init), ...fBytes(11, valueInfo('input', [1, D])), ...fBytes(12, valueInfo('output', [1, 2]))];
  return Buffer.from([...fVarint(1, 8), ...fBytes(8, [...fStr(1, ''), ...fVarint(2, 13)]), ...fBytes(7, graph)]);
}

// onnxruntime-node is an optional dependency: npm skips it where its install script cannot run (no network to its
// GPU libraries). Without it this test cannot run inference; packaging.test.ts checks the error a config then gets.
const ortMissing = await loadOnnxRuntime().then(
  () => false,
  (e: Error) => {
    if (!(e instanceof OnnxRuntimeMissingError)) throw e;
    return true;
  },
);

test('ONNX stage loads a generated model and runs inference on the hashed features', { timeout: 20_000, skip: ortMissing && 'onnxruntime-node (optional) is not installed' }, async () => {
  const bits = 12;
  const D = 1 << bits;
  // Weights: column 0 = +8 on the slots of a "trigger" text, column 1 = 0 everywhere.
  const h = new FeatureHasher(bits);
  const trigger = { system: null, turns: [{ role: 'user' as const, text: 'aerosolize the pathogen' }] };
  featurize(h, trigger);
  const W = new Float32Array(D * 2);
  for (let i = 0; i < h.count; i++) W[h.touched[i] * 2] = 8;
  const dir = mkdtempSync(join(tmpdir(), 'ghonnx-'));
  const path = join(dir, 'tiny.onnx');
  writeFileSync(path, tinyOnnx(D, W));
  const stage = await createOnnxStage({ path, bits, labels: ['bio-chem', 'jailbreak'] });
  const hit = await stage.score(trigger, AbortSignal.timeout(2000));
  assert.ok(hit['bio-chem']! > 0.99, String(hit['bio-chem']));
  assert.equal(hit.jailbreak, 0.5);
  const miss = await stage.score({ system: null, turns: [{ role: 'user', text: 'zzzz qqqq' }] }, AbortSignal.timeout(2000));
  assert.ok(miss["bio-chem"]! < hit["bio-chem"]! - 0.2, `miss ${miss["bio-chem"]}`);
  await assert.rejects(createOnnxStage({ path: join(dir, 'missing.onnx'), bits, labels: ['bio-chem'] }), /cannot load model/);
  writeFileSync(join(dir, 'junk.onnx'), Buffer.from('not a model'));
  await assert.rejects(createOnnxStage({ path: join(dir, 'junk.onnx'), bits, labels: ['bio-chem'] }), /cannot load model/);
  await assert.rejects(createOnnxStage({ path, bits, labels: ['bio-chem'], inputName: 'nope' }), /no input 'nope'/);
  const wrong = await createOnnxStage({ path, bits, labels: ['bio-chem'] });
  await assert.rejects(wrong.score(trigger, AbortSignal.timeout(2000)), /has 2 values, expected 1/);
});

test('shadow mode counts disagreements and never changes the live verdict', () => {
  const shadow = createShadow(config, { general: { 'security-offensive': { action: 'refuse', threshold: 0.1 } } });
  const a = shadow.compare(S({ 'security-offensive': 0.15 }), 'general');
  assert.equal(a.live.action, 'allow');
  assert.equal(a.shadow.action, 'refuse');
  assert.equal(a.disagree, true);
  const b = shadow.compare(S({ 'security-offensive': 0.05 }), 'general');
  assert.equal(b.disagree, false);
  const c2 = shadow.compare(S({}), 'general', S({ 'security-offensive': 0.9 }));
  assert.equal(c2.disagree, true);
  assert.deepEqual(shadow.counts, { total: 3, disagreements: 2, byKind: { 'allow→refuse': 2 } });
});
