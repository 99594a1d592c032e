/**
 * What the request bounds cost per request, against a baseline measured in the same run:
 *  - the JSON nesting check (excessiveDepthPath) on typical bodies, against JSON.parse of the same body — the
 *    work every request already pays just before it;
 *  - a caller's /v1/models body from the per-principal cache, against building it (the access decision for
 *    every model, then the join).
 *   node --import tsx bench/request-bounds.bench.ts
 */
import type { ModelAccess } from '../src/core/gates.ts';
import type { Principal } from '../src/core/types.ts';
import { configSchema } from '../src/config/schema.ts';
import { DEFAULT_MAX_JSON_DEPTH, excessiveDepthPath } from '../src/protocol/json-depth.ts';
import { buildCatalogue } from '../src/server/catalogue.ts';
import { ModelLists } from '../src/server/model-list.ts';

let sink = 0;
function nsPerOp(ops: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(ops, 20_000); i++) if (fn(i)) sink++; // warm-up (JIT)
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) if (fn(i)) sink++;
    best = Math.min(best, Number(process.hrtime.bigint() - start) / ops);
  }
  return best;
}

const tools = Array.from({ length: 8 }, (_, i) => ({
  type: 'function',
  function: { name: `tool_${i}`, description: 'Looks something up.', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 }, units: { type: 'string', enum: ['c', 'f'] } }, required: ['city'] } },
}));
const bodies: [string, unknown][] = [
  ['chat, 2 messages (0.2 KB)', { model: 'frontier', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hello, how are you today?' }] }],
  ['chat with 8 tools and a tool call (4 KB)', { model: 'frontier', tools, messages: [{ role: 'user', content: 'weather?' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'tool_0', arguments: '{"city":"Oslo"}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'rain' }] }],
  ['conversation, 40 turns of 2 KB (80 KB)', { model: 'frontier', messages: Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x'.repeat(2000) })) }],
];

console.log('JSON nesting check (excessiveDepthPath, limit 64) vs JSON.parse of the same body');
console.log('| body | JSON.parse ns | depth check ns | check ÷ parse |');
console.log('|---|---|---|---|');
for (const [name, value] of bodies) {
  const text = JSON.stringify(value);
  const parsed = JSON.parse(text) as unknown;
  const ops = text.length > 10_000 ? 20_000 : 200_000;
  const parse = nsPerOp(ops, () => JSON.parse(text));
  const check = nsPerOp(ops, () => excessiveDepthPath(parsed, DEFAULT_MAX_JSON_DEPTH));
  console.log(`| ${name} | ${parse.toFixed(0)} | ${check.toFixed(0)} | ${(check / parse).toFixed(3)} |`);
}

// A catalogue of 30 models; access allows two thirds of them (a cheap decision, like the real snapshot's).
const config = configSchema.parse({
  providers: { sim: { type: 'simulator' } },
  models: Array.from({ length: 30 }, (_, i) => ({ name: `model-${i}`, provider: 'sim', upstreamModel: 'x' })),
});
const { catalogue } = buildCatalogue(config, {});
const access: ModelAccess = { allows: (_p, model) => !model.endsWith('2') && !model.endsWith('5'), version: () => 1 };
const principals: Principal[] = Array.from({ length: 1000 }, (_, i) =>
  Object.freeze({ keyId: `k${i}`, accountId: `a${i}`, orgId: null, nationalities: ['US'], residence: 'US', kyc: 'basic' as const, programmes: [], tier: 'general', staff: false }),
);
const cached = new ModelLists(access);
const now = Date.now();
const hit = nsPerOp(200_000, (i) => cached.bodyFor(principals[i % principals.length]!, catalogue, now).length);
const build = nsPerOp(20_000, (i) => new ModelLists(access).bodyFor(principals[i % principals.length]!, catalogue, now).length);
console.log('\n/v1/models body for one principal, 30 models, 1,000 principals');
console.log(`cached: ${hit.toFixed(0)} ns; built (30 access decisions + join): ${build.toFixed(0)} ns; cached ÷ built: ${(hit / build).toFixed(3)}`);
if (sink < 0) console.log(sink);
