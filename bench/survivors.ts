/**
 * Which allocations of a running gateway survive young-generation GC (scavenges): attaches to the gateway's
 * inspector (start it with `--inspect=127.0.0.1:9229`, e.g. through `bench/profile.ts --node-flags=…`), runs V8's
 * sampling heap profiler keeping only objects that outlived a scavenge (`includeObjectsCollectedByMinorGC: false`,
 * `includeObjectsCollectedByMajorGC: true`) for a while, and prints the allocation stacks holding most of those bytes.
 * Objects promoted to the old space are what makes scavenges long and old-space collections frequent. A tool, not a
 * figure (its name has no `.bench`).
 *
 * Usage: node --import tsx bench/survivors.ts [--inspector http://127.0.0.1:9229] [--ms 6000] [--top 25]
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'undici';

const { values } = parseArgs({ options: { inspector: { type: 'string', default: 'http://127.0.0.1:9229' }, ms: { type: 'string', default: '6000' }, top: { type: 'string', default: '25' } } });

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

const targets = (await (await fetch(`${values.inspector}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
if (targets.length === 0) throw new Error(`no inspector target at ${values.inspector}`);
const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  ws.addEventListener('open', resolve, { once: true });
  ws.addEventListener('error', reject, { once: true });
});
let nextId = 0;
const waiting = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
ws.addEventListener('message', (e) => {
  const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
  if (m.id !== undefined) waiting.get(m.id)?.(m);
});
async function call<T>(method: string, params: object = {}): Promise<T> {
  const id = ++nextId;
  const m = await new Promise<{ result?: unknown; error?: { message: string } }>((resolve) => {
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  waiting.delete(id);
  if (m.error) throw new Error(`${method}: ${m.error.message}`);
  return m.result as T;
}

await call('HeapProfiler.enable');
await call('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
await new Promise((resolve) => setTimeout(resolve, Number(values.ms)));
const { profile } = await call<{ profile: { head: SamplingNode } }>('HeapProfiler.stopSampling');
ws.close();

const frame = (n: SamplingNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*\/(node_modules|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const rows: { bytes: number; stack: string }[] = [];
const walk = (n: SamplingNode, path: string[]): void => {
  const p = [...path, frame(n)];
  if (n.selfSize > 0) rows.push({ bytes: n.selfSize, stack: p.slice(-6).reverse().join(' < ') });
  for (const c of n.children) walk(c, p);
};
walk(profile.head, []);
rows.sort((a, b) => b.bytes - a.bytes);
const total = rows.reduce((s, r) => s + r.bytes, 0);
console.log(`sampled bytes that outlived a scavenge in ${values.ms} ms: ${(total / 1e6).toFixed(2)} MB (allocation stack, innermost first)`);
for (const r of rows.slice(0, Number(values.top))) console.log(`${(r.bytes / 1e3).toFixed(0).padStart(7)} KB  ${r.stack}`);
