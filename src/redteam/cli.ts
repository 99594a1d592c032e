/**
 * `gatehouse redteam` — run the attack transforms on harmful and benign seeds against a target and report attack
 * success and over-refusal per transform × category with 95% Wilson intervals. See README.md in this folder.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.ts';
import { boundsFrom, checkBounds, generate, parseBounds, runRedteam, summarise } from './harness.ts';
import { loadTransforms, selectTransforms } from './registry.ts';
import { htmlReport, jsonReport, textReport, type ReportMeta } from './report.ts';
import { loadSeedFiles, samplePerCategory, SHIPPED_SEEDS } from './seeds.ts';
import { classifierTarget, gatewayTarget, keywordBaselineTarget, type Target } from './targets.ts';

const HELP = `usage: gatehouse redteam [options]

Applies every attack transform to every seed (harmful and benign) and reports, per transform and per category,
the attack success rate (harmful seeds served) and the over-refusal rate (benign seeds refused), with 95% Wilson
intervals.

targets:
  --target classifier          the classifier alone, in-process (default); --config FILE uses its classify section,
                               --tier T (default general) chooses the tier's actions
  --target keyword-baseline    a blunt keyword filter, for comparison
  --target http://HOST:PORT    a running gateway end to end through the official SDK:
                               --key K (or --key-env VAR, default GATEHOUSE_KEY) --model M --protocol openai|anthropic
                               [--max-tokens 64] [--timeout-ms 60000] [--stream]

seeds and transforms:
  --seeds FILE.jsonl           {text, label: harmful|benign, category?, id?} per line; repeatable (default: the shipped set)
  --per-category N             at most N seeds per label × category (deterministic sample)
  --transforms DIR             also load the transforms in DIR (.js/.mjs/.ts modules exporting \`transform\`); repeatable
  --only a,b,c                 run only these transforms
  --list                       list the transforms and exit
  --emit FILE.jsonl            write the attack conversations ({transform, seedId, label, category, system?, messages})
                               instead of sending them, and exit — to inspect them or feed another evaluator
  --run-seed N                 seed of the transforms' random choices (default 1)
  --concurrency N              requests in flight (default 8)

output:
  --json FILE                  the full result (summary and every row) as JSON
  --html FILE                  a self-contained HTML report
  --bounds FILE                exit 1 if any transform's rate exceeds its bound in FILE ({asr:{…}, overRefusal:{…}})
  --write-bounds FILE          record measured rates + --margin (default 0.03) as bounds
  --quiet                      no progress on stderr
`;

function int(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, found ${JSON.stringify(v)}`);
  return n;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Where the command writes; tests pass their own (the test runner itself talks over the process's stdout). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}
const PROCESS_IO: Io = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

export async function run(argv: string[], io: Io = PROCESS_IO): Promise<number> {
  let values: Record<string, any>;
  try {
    ({ values } = parseArgs({
      args: argv.slice(1),
      options: {
        target: { type: 'string', default: 'classifier' },
        config: { type: 'string' },
        tier: { type: 'string', default: 'general' },
        key: { type: 'string' },
        'key-env': { type: 'string', default: 'GATEHOUSE_KEY' },
        model: { type: 'string' },
        protocol: { type: 'string', default: 'openai' },
        'max-tokens': { type: 'string' },
        'timeout-ms': { type: 'string' },
        stream: { type: 'boolean', default: false },
        seeds: { type: 'string', multiple: true },
        'per-category': { type: 'string' },
        transforms: { type: 'string', multiple: true },
        only: { type: 'string' },
        list: { type: 'boolean', default: false },
        emit: { type: 'string' },
        'run-seed': { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        bounds: { type: 'string' },
        'write-bounds': { type: 'string' },
        margin: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    io.err(`gatehouse redteam: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  try {
    return await main(values, io);
  } catch (e) {
    io.err(`gatehouse redteam: ${(e as Error).message}\n`);
    return 2;
  }
}

async function main(values: Record<string, any>, io: Io): Promise<number> {
  const all = await loadTransforms(values.transforms ?? []);
  if (values.list) {
    const w = Math.max(...all.map((t) => t.name.length));
    for (const t of all) io.out(`${t.name.padEnd(w)}  ${t.description}\n`);
    return 0;
  }
  const transforms = selectTransforms(all, values.only ? String(values.only).split(',').map((s) => s.trim()).filter(Boolean) : null);
  const runSeed = int(values['run-seed'], 'run-seed', 1);
  const concurrency = int(values.concurrency, 'concurrency', 8, 1);
  const margin = values.margin === undefined ? 0.03 : Number(values.margin);
  if (!(margin >= 0 && margin <= 1)) throw new Error(`--margin must be a number in [0, 1], found ${JSON.stringify(values.margin)}`);

  const seedFiles: string[] = values.seeds ?? SHIPPED_SEEDS;
  const loaded = loadSeedFiles(seedFiles);
  // A file in the wrong format would print one line per record: the first few say enough.
  for (const e of loaded.errors.slice(0, 20)) io.err(`${e.file}:${e.line}: ${e.message} (line skipped)\n`);
  if (loaded.errors.length > 20) io.err(`… and ${loaded.errors.length - 20} more bad lines (skipped)\n`);
  let seeds = loaded.seeds;
  if (values['per-category'] !== undefined) seeds = samplePerCategory(seeds, int(values['per-category'], 'per-category', 1, 1));
  if (seeds.length === 0) throw new Error(`no usable seeds in ${seedFiles.join(', ')}`);
  if (values.emit) {
    mkdirSync(dirname(values.emit), { recursive: true });
    const fd = openSync(values.emit, 'w');
    let n = 0;
    let bad = 0;
    try {
      for (const g of generate(seeds, transforms, runSeed)) {
        const base = { transform: g.transform, seedId: g.seed.id, label: g.seed.label, category: g.seed.category };
        writeSync(fd, JSON.stringify(g.conv ? { ...base, ...g.conv } : { ...base, error: g.error }) + '\n');
        n++;
        if (g.error) bad++;
      }
    } finally {
      closeSync(fd);
    }
    io.err(`wrote ${n} conversations to ${values.emit}${bad ? ` (${bad} transform errors)` : ''}\n`);
    return 0;
  }
  const bounds = values.bounds ? parseBounds(readFileSync(values.bounds, 'utf8'), values.bounds) : null;

  const target = await makeTarget(values);
  const started = Date.now();
  let lastShown = 0;
  const rows = await runRedteam({
    seeds,
    transforms,
    target,
    runSeed,
    concurrency,
    onProgress: values.quiet
      ? undefined
      : (done, total) => {
          const now = Date.now();
          if (done === total || now - lastShown > 1000) {
            lastShown = now;
            io.err(`\r${done}/${total} conversations (${((now - started) / 1000).toFixed(0)} s)${done === total ? '\n' : ''}`);
          }
        },
  });
  await target.close?.();
  const summary = summarise(rows);
  const violations = bounds ? checkBounds(summary, bounds) : [];
  const meta: ReportMeta = {
    target: target.describe,
    seeds: values.seeds ? seedFiles.join(', ') : 'shipped seed set',
    harmfulSeeds: seeds.filter((s) => s.label === 'harmful').length,
    benignSeeds: seeds.filter((s) => s.label === 'benign').length,
    runSeed,
    transforms: transforms.length,
    generatedAt: new Date().toISOString(),
  };
  io.out(textReport(meta, summary, violations));
  if (values.json) write(values.json, jsonReport(meta, summary, rows, violations));
  if (values.html) write(values.html, htmlReport('Gatehouse red-team report', meta, summary, rows, violations, new Map(seeds.map((x) => [x.id, x]))));
  if (values['write-bounds']) {
    const b = boundsFrom(summary, margin);
    write(values['write-bounds'], JSON.stringify({ note: `measured rate + ${margin}, rounded up to 0.01; target: ${meta.target}; run seed ${runSeed}`, ...b }, null, 2) + '\n');
  }
  const errors = rows.filter((r) => r.outcome === 'error');
  if (errors.length === rows.length) {
    io.err(`gatehouse redteam: every conversation ended in an error (first: ${rows[0]?.detail ?? 'none'})\n`);
    return 1;
  }
  if (errors.length > 0) io.err(`gatehouse redteam: ${errors.length} of ${rows.length} conversations ended in an error, counted apart (first: ${errors[0]!.transform} ${errors[0]!.seedId}: ${errors[0]!.detail})\n`);
  return violations.length ? 1 : 0;
}

async function makeTarget(values: Record<string, any>): Promise<Target> {
  const t = String(values.target);
  if (t === 'classifier') {
    const section = values.config ? loadConfigFile(values.config).classify : undefined;
    return classifierTarget(section, values.tier);
  }
  if (t === 'keyword-baseline') return keywordBaselineTarget();
  if (/^https?:\/\//.test(t)) {
    const key = values.key ?? process.env[values['key-env']];
    if (!key) throw new Error(`--target ${t} needs --key K (or the environment variable ${values['key-env']})`);
    if (!values.model) throw new Error(`--target ${t} needs --model M`);
    if (values.protocol !== 'openai' && values.protocol !== 'anthropic') throw new Error(`--protocol must be openai or anthropic, found ${JSON.stringify(values.protocol)}`);
    return await gatewayTarget({
      url: t,
      key,
      model: values.model,
      protocol: values.protocol,
      maxTokens: int(values['max-tokens'], 'max-tokens', 64, 1),
      timeoutMs: int(values['timeout-ms'], 'timeout-ms', 60_000, 1),
      stream: values.stream === true,
    });
  }
  throw new Error(`--target must be classifier, keyword-baseline or an http(s) URL, found ${JSON.stringify(t)}`);
}
