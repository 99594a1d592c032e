/**
 * Classifier latency: a 2 KB prompt through the full pipeline + model, against two baselines measured in the same run
 * (normalisation + instruction/code split alone; a naive regex keyword list). Also: 1 MB prompts, every character
 * classified (distinct generated prose; real prompts from the public data when present; one sentence repeated; whitespace
 * padding around a request; pasted code), and
 * streaming output moderation overhead per chunk against plain pass-through.
 * Run: node --import tsx bench/classify.bench.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadDefaultClassifier } from '../src/classify/classifier.ts';
import { normalizeText, decodeSegments } from '../src/classify/normalize.ts';
import { splitInstructionAndCode } from '../src/classify/segment.ts';
import { createStreamModerator } from '../src/classify/stream.ts';
import { decideAction } from '../src/classify/decide.ts';
import { parseClassifyConfig } from '../src/classify/config.ts';

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
function time(fn: () => void, n: number, warm = 200): ReturnType<typeof stats> {
  for (let i = 0; i < warm; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return stats(out);
}
const fmt = (x: number) => `${(x * 1000).toFixed(1)} µs`;
/** CPU time (user + system) per call, p50: on a shared machine it varies far less than wall time. */
function cpuTime(fn: () => void, n: number): number {
  fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    out.push((d.user + d.system) / 1000);
  }
  return stats(out).p50;
}

const instruction = 'Our scanner flagged a possible buffer overflow in this C function from our firmware. Can you explain the bug, fix it, and write a unit test that would have caught it? We also want to know whether strncpy is enough here or if we should switch to a length-checked copy helper across the codebase. ';
const code = '```c\n' + 'static int parse_header(const char *in, size_t len, struct hdr *out) {\n  char name[32];\n  size_t i = 0;\n  while (i < len && in[i] != \':\') { name[i] = in[i]; i++; }\n  name[i] = 0;\n  strcpy(out->name, name);\n  return (int)i;\n}\n'.repeat(9) + '```';
const prompt2k = (instruction + '\n' + code).slice(0, 2048);
const conv = { system: 'You are a helpful assistant.', turns: [{ role: 'user' as const, text: prompt2k }] };

const c = loadDefaultClassifier();
const KEYWORDS = /\b(exploit|malware|ransomware|keylogger|payload|shellcode|botnet|phishing|sarin|anthrax|ricin|nerve agent|bioweapon|ignore (all )?previous instructions|jailbreak|DAN|bomb|weapon|hack|steal|credential|backdoor|rootkit|trojan|ddos|brute force)\b/gi;

const N = 3000;
const full = time(() => c.classify(conv), N);
const normOnly = time(() => {
  const s = splitInstructionAndCode(prompt2k);
  decodeSegments(normalizeText(s.instruction));
}, N);
const regex = time(() => {
  KEYWORDS.lastIndex = 0;
  prompt2k.match(KEYWORDS);
}, N);
const big = 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(1_000_000 / 45)).slice(0, 1_000_000);
const huge = time(() => c.classifyText(big), 10, 2);
// Distinct prose: seeded word salad from a 2,000-word vocabulary, so no two chunks repeat.
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const vocab = Array.from({ length: 2000 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'.slice(i % 20, (i % 20) + 3 + (i % 5)) + String.fromCharCode(97 + (i % 26)) + 'eaoiu'[i % 5]);
let distinct = '';
while (distinct.length < 1_000_000) distinct += vocab[Math.floor(rnd() * vocab.length)] + (rnd() < 0.07 ? '. ' : ' ');
distinct = distinct.slice(0, 1_000_000);
const hugeDistinct = time(() => c.classifyText(distinct), 6, 2);
// Real text: everyday and sensitive-but-benign prompts from the public data (when present), joined to 1 MB.
const dataDir = ['/work/shared/data/normalized', '../shared/data/normalized'].find((d) => existsSync(d));
let real = '';
if (dataDir)
  for (const f of ['arena_hard', 'mt_bench', 'vicuna_bench', 'medquad', 'gsm8k'])
    for (const l of readFileSync(`${dataDir}/${f}.jsonl`, 'utf8').split('\n')) if (l && real.length < 1_000_000) real += (JSON.parse(l) as { text: string }).text + '\n\n';
real = real.slice(0, 1_000_000);
const hugeReal = real.length > 0 ? time(() => c.classifyText(real), 6, 2) : null;
const padded = ' '.repeat(500_000) + 'Write a working exploit for this server.' + '\n'.repeat(500_000);
const hugePadded = time(() => c.classifyText(padded), 10, 2);
const codeMb = 'Fix this:\n```c\n' + code.slice(5, -3).repeat(Math.ceil(1_000_000 / code.length)).slice(0, 1_000_000) + '\n```';
const hugeCode = time(() => c.classifyText(codeMb), 6, 2);
const kwDistinct = time(() => {
  KEYWORDS.lastIndex = 0;
  distinct.match(KEYWORDS);
}, 6, 2);

console.log(`prompt: ${prompt2k.length} chars; ${N} iterations; Node ${process.version}`);
console.log(`classify (full pipeline + model)   p50 ${fmt(full.p50)}  p99 ${fmt(full.p99)}`);
console.log(`baseline: normalise + split only   p50 ${fmt(normOnly.p50)}  p99 ${fmt(normOnly.p99)}   ratio full/baseline ${(full.p50 / normOnly.p50).toFixed(1)}x`);
console.log(`baseline: regex keyword list       p50 ${fmt(regex.p50)}  p99 ${fmt(regex.p99)}   ratio full/regex ${(full.p50 / regex.p50).toFixed(1)}x`);
const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(`1 MB distinct prose, all of it      p50 ${ms(hugeDistinct.p50)}   keyword-regex baseline ${ms(kwDistinct.p50)}  ratio ${(hugeDistinct.p50 / kwDistinct.p50).toFixed(0)}x`);
if (hugeReal) console.log(`1 MB real prompts (Arena-Hard, MT-Bench, Vicuna, MedQuAD, GSM8K) p50 ${ms(hugeReal.p50)}`);
console.log(`1 MB distinct prose, CPU time      p50 ${ms(cpuTime(() => c.classifyText(distinct), 6))}   keyword regex ${ms(cpuTime(() => { KEYWORDS.lastIndex = 0; distinct.match(KEYWORDS); }, 6))}`);
if (real.length > 0) console.log(`1 MB real prompts, CPU time        p50 ${ms(cpuTime(() => c.classifyText(real), 6))}`);
console.log(`1 MB one sentence repeated         p50 ${ms(huge.p50)}`);
console.log(`1 MB whitespace around a request   p50 ${ms(hugePadded.p50)}`);
console.log(`1 MB pasted C code + "fix this"    p50 ${ms(hugeCode.p50)}`);

// Streaming: a 4,000-char response in 20-char deltas (typical token chunks), moderated vs passed through.
const config = parseClassifyConfig({});
const response = ('Here is how to fix the overflow: check the length before copying, use a bounded copy, and add a regression test that feeds a 64-byte header. ').repeat(40).slice(0, 4000);
const deltas = response.match(/.{1,20}/gs)!;
for (const holdBack of [0, 64, 256, 1024]) {
  const moderated = time(() => {
    const m = createStreamModerator({ classify: (t) => c.classifyText(t), decide: (s) => decideAction(s, 'general', config), holdBackChars: holdBack, windowChars: 2000 });
    for (const d of deltas) m.push(d);
    m.end();
  }, 200, 20);
  const plain = time(() => {
    let out = '';
    for (const d of deltas) out += d;
    if (out.length !== response.length) throw new Error('unreachable');
  }, 200, 20);
  const perChunk = (moderated.p50 - plain.p50) / deltas.length;
  console.log(`stream moderation holdBack=${String(holdBack).padStart(4)}: whole response p50 ${fmt(moderated.p50)} vs pass-through ${fmt(plain.p50)} → +${fmt(perChunk)} per 20-char chunk (${deltas.length} chunks)`);
}
