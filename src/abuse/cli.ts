/**
 * `gatehouse simulate abuse …` — deterministic traffic generator (events JSONL + ground-truth JSONL).
 * `gatehouse abuse detect --events FILE | --redis-stream KEY` — run the detector standalone; print a summary.
 * `gatehouse abuse rings [--events FILE | --state FILE] [--json]` — list rings with score, action and evidence.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { abuseConfig, configSchema, resolveAbusePaths, type AbuseConfig } from './config.ts';
import { AbuseDetector } from './detector.ts';
import { explainRing } from './explain.ts';
import { decideActions, type AccountAction } from './gate.ts';
import { DEFAULT_SIM, evaluate, simulate, type Label } from './simulate.ts';
import { DEFAULT_POPULATION, generatePopulation, isRing } from './population/generate.ts';
import { consumeRedisStream, ingestJsonlFile } from './stream.ts';
import { ACTION_ORDER, type Ring } from './types.ts';

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

const USAGE = `usage:
  gatehouse simulate abuse --out EVENTS.jsonl --truth TRUTH.jsonl [--seed N] [--benign-accounts N]
        [--benign-requests N] [--ring-size N] [--ring-requests N] [--stealth 0..1] [--days N] [--no-hard-negatives]
  gatehouse abuse detect (--events FILE | --redis-stream KEY [--redis URL] [--follow]) [--state FILE]
        [--truth FILE] [--config FILE] [--json]
  gatehouse abuse rings [--events FILE | --state FILE] [--config FILE] [--limit N] [--json] [--explain RING]
  gatehouse abuse serve --config FILE --checkpoint FILE [--consumer NAME] [--analyse-ms N]
        the fleet's detector: consumes the event stream (abuse.fleet), checkpoints, publishes verdicts to the store
  gatehouse simulate population --out EVENTS.jsonl --truth TRUTH.jsonl [--seed N] [--scale S] [--days N]
`;

/** `--help` text for `gatehouse abuse …` and `gatehouse simulate …` (main.ts prints it). */
export function help(): string {
  return USAGE;
}

export async function run(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'simulate') {
      if (sub === 'population') return await populationCmd(rest);
      if (sub !== 'abuse') return usage(`unknown simulation '${sub ?? ''}' (expected 'abuse' or 'population')`);
      return await simulateCmd(rest);
    }
    if (command === 'abuse') {
      if (sub === 'detect') return await detectCmd(rest, false);
      if (sub === 'rings') return await detectCmd(rest, true);
      if (sub === 'serve') return await serveCmd(rest);
      return usage(`unknown subcommand 'abuse ${sub ?? ''}' (expected detect, rings or serve)`);
    }
    return usage(`unknown command '${command}'`);
  } catch (e) {
    err(`gatehouse ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}

function usage(msg: string): number {
  err(`${msg}\n${USAGE}`);
  return 2;
}

function num(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: expected a number from ${min} to ${max}, got '${v}'`);
  return n;
}

async function simulateCmd(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' }, truth: { type: 'string' }, seed: { type: 'string' },
      'benign-accounts': { type: 'string' }, 'benign-requests': { type: 'string' }, 'ring-size': { type: 'string' },
      'ring-requests': { type: 'string' }, stealth: { type: 'string' }, days: { type: 'string' },
      'no-hard-negatives': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.out || !values.truth) return usage('simulate abuse: --out and --truth are required');
  const sim = simulate({
    seed: num(values.seed, 'seed', DEFAULT_SIM.seed, 0, 2 ** 32 - 1),
    benignAccounts: num(values['benign-accounts'], 'benign-accounts', DEFAULT_SIM.benignAccounts, 0, 10_000_000),
    benignRequests: num(values['benign-requests'], 'benign-requests', DEFAULT_SIM.benignRequests, 0, 100_000_000),
    ringSize: num(values['ring-size'], 'ring-size', DEFAULT_SIM.ringSize, 0, 1_000_000),
    ringRequestsPerAccount: num(values['ring-requests'], 'ring-requests', DEFAULT_SIM.ringRequestsPerAccount, 1, 100_000),
    stealth: num(values.stealth, 'stealth', DEFAULT_SIM.stealth, 0, 1),
    days: num(values.days, 'days', DEFAULT_SIM.days, 1, 365),
    hardNegatives: !values['no-hard-negatives'],
  });
  await writeLines(values.out, sim.records());
  await writeLines(values.truth, (function* () {
    for (const a of sim.accounts) yield { accountId: a.meta.accountId, label: a.label };
  })());
  err(`simulate abuse: ${sim.eventCount} events, ${sim.accounts.length} accounts → ${values.out}; labels → ${values.truth}\n`);
  return 0;
}

async function serveCmd(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, checkpoint: { type: 'string' }, consumer: { type: 'string' }, 'analyse-ms': { type: 'string' } }, strict: true });
  if (!values.config || !values.checkpoint) return usage('abuse serve: --config and --checkpoint are required');
  const doc = (parseYaml(await readFile(values.config, 'utf8')) ?? {}) as { store?: { url?: string }; redis?: { url?: string }; abuse?: unknown };
  const cfg = await loadConfig(values.config);
  const storeUrl = process.env.DATABASE_URL || doc.store?.url || 'sqlite:data/gatehouse.db';
  const redisUrl = process.env.REDIS_URL || doc.redis?.url;
  if (!redisUrl) return usage('abuse serve: a Redis URL is required (redis.url in the config or REDIS_URL)');
  const { openDb } = await import('../store/open.ts');
  const { migrate } = await import('../store/migrate.ts');
  const { ALL_MIGRATIONS } = await import('../server/migrations.ts');
  const { ChangeWatcher } = await import('../store/changes.ts');
  const { DetectorRunner, RedisStreamConsumer } = await import('./fleet.ts');
  const { Redis } = await import('ioredis');
  const db = await openDb(storeUrl);
  await migrate(db, ALL_MIGRATIONS);
  const watcher = new ChangeWatcher(db, { intervalMs: 0, listen: false, redisUrl, onError: (e) => err(`abuse serve: ${e.message}\n`) });
  await watcher.start();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (e: Error) => err(`abuse serve: redis: ${e.message}\n`));
  const consumerName = values.consumer ?? 'detector-1';
  const det = new AbuseDetector(cfg);
  const runner = new DetectorRunner(cfg, det, new RedisStreamConsumer(redis, cfg.fleet.stream, cfg.fleet.group, consumerName), db, {
    checkpointFile: values.checkpoint,
    checkpointEvery: cfg.fleet.checkpointEvery,
    checkpointMs: cfg.fleet.checkpointMs,
    analyseIntervalMs: num(values['analyse-ms'], 'analyse-ms', cfg.analyseIntervalMs, 10, 86_400_000),
    batch: cfg.batchSize,
    blockMs: 200,
    watcher,
    onAnalysis: (i) => out(JSON.stringify({ msg: 'analysis', ...i, accepted: det.stats().accepted, skipped: det.stats().skipped }) + '\n'),
    onError: (e) => err(`abuse serve: ${e.message}\n`),
  });
  await runner.start();
  out(JSON.stringify({ msg: 'abuse serve: consuming', stream: cfg.fleet.stream, group: cfg.fleet.group, consumer: consumerName, accepted: det.stats().accepted }) + '\n');
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runner.run(ac.signal);
    await runner.analyse();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await watcher.stop();
    redis.disconnect();
    await db.close();
  }
  out(JSON.stringify({ msg: 'abuse serve: stopped', entries: runner.entries, checkpoints: runner.checkpoints, accepted: det.stats().accepted, skipped: det.stats().skipped }) + '\n');
  return 0;
}

async function populationCmd(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, truth: { type: 'string' }, seed: { type: 'string' }, scale: { type: 'string' }, days: { type: 'string' } }, strict: true });
  if (!values.out || !values.truth) return usage('simulate population: --out and --truth are required');
  const pop = generatePopulation({
    seed: num(values.seed, 'seed', DEFAULT_POPULATION.seed, 0, 2 ** 32 - 1),
    scale: num(values.scale, 'scale', DEFAULT_POPULATION.scale, 0.001, 10),
    days: num(values.days, 'days', DEFAULT_POPULATION.days, 1, 90),
  });
  await writeLines(values.out, pop.records());
  await writeLines(values.truth, (function* () {
    for (const a of pop.accounts) yield { accountId: a.meta.accountId, label: isRing(a.label) ? 'ring' : a.label, population: a.label, group: a.group };
  })());
  err(`simulate population: ${pop.eventCount} events, ${pop.accounts.length} accounts → ${values.out}; labels → ${values.truth}\n`);
  return 0;
}

async function writeLines(file: string, records: Iterable<unknown>): Promise<void> {
  const ws = createWriteStream(file);
  const failed = once(ws, 'error').then(([e]) => {
    throw new Error(`cannot write ${file}: ${(e as Error).message}`);
  });
  let buf = '';
  for (const r of records) {
    buf += JSON.stringify(r) + '\n';
    if (buf.length > 1 << 20) {
      if (!ws.write(buf)) await Promise.race([once(ws, 'drain'), failed]);
      buf = '';
    }
  }
  ws.end(buf);
  await Promise.race([once(ws, 'finish'), failed]);
}

async function loadConfig(file: string | undefined): Promise<AbuseConfig> {
  if (!file) return abuseConfig({});
  const doc = parseYaml(await readFile(file, 'utf8')) as Record<string, unknown> | null;
  const r = configSchema.safeParse(doc?.abuse ?? {});
  if (!r.success) throw new Error(`${file}: ${r.error.issues.map((i) => `$.abuse.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return resolveAbusePaths(r.data, dirname(resolve(file)));
}

async function detectCmd(argv: string[], ringsOnly: boolean): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' }, 'redis-stream': { type: 'string' }, redis: { type: 'string' }, follow: { type: 'boolean' },
      state: { type: 'string' }, truth: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' },
      explain: { type: 'string' },
    },
    strict: true,
  });
  const cfg = await loadConfig(values.config);
  const det = new AbuseDetector(cfg);
  const limit = num(values.limit, 'limit', 20, 1, 100_000);
  if (values.events && values['redis-stream']) return usage('abuse: give --events or --redis-stream, not both');
  if (!values.events && !values['redis-stream'] && !(ringsOnly && values.state)) return usage(`abuse ${ringsOnly ? 'rings' : 'detect'}: --events FILE or --redis-stream KEY${ringsOnly ? ' or --state FILE' : ''} is required`);
  if (values.state && (ringsOnly || values.events || values['redis-stream'])) {
    await det.loadSnapshot(values.state).catch((e: Error) => {
      if (ringsOnly && !values.events) throw e;
      if (!/ENOENT/.test(e.message)) throw e; // a missing state file just means "start fresh"
    });
  }
  const t0 = Date.now();
  if (values.events) await ingestJsonlFile(det, values.events);
  if (values['redis-stream']) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    try {
      await consumeRedisStream(det, redis, values['redis-stream'], { follow: values.follow, signal: ac.signal });
    } finally {
      process.off('SIGINT', stop);
      redis.disconnect();
    }
  }
  const analysis = det.analyse();
  const actions = decideActions(analysis, cfg);
  if (values.state && !ringsOnly) await det.saveSnapshot(values.state);
  const stats = det.stats();
  let quality: Record<string, unknown> | undefined;
  if (values.truth) {
    const labels = new Map<string, Label>();
    for (const line of (await readFile(values.truth, 'utf8')).split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { accountId: string; label: Label };
      labels.set(r.accountId, r.label);
    }
    const lvl = new Map([...actions].map(([id, a]) => [id, ACTION_ORDER.indexOf(a.action)]));
    quality = Object.fromEntries(['flag', 'require-kyc', 'degrade', 'suspend'].map((a) => [a, evaluate(lvl, labels, ACTION_ORDER.indexOf(a as never))]));
  }
  if (values.explain !== undefined) {
    const ring = analysis.rings.find((r) => r.id === values.explain);
    if (!ring) {
      err(`abuse rings: no ring '${values.explain}' (rings: ${analysis.rings.slice(0, 10).map((r) => r.id).join(', ') || 'none'})\n`);
      return 1;
    }
    if (values.json) out(JSON.stringify({ ring, explanation: explainRing(ring, (id) => actions.get(id)) }, null, 2) + '\n');
    else out(explainRing(ring, (id) => actions.get(id)).join('\n') + '\n');
    return 0;
  }
  const rings = analysis.rings.slice(0, limit);
  if (values.json) {
    out(JSON.stringify(ringsOnly ? { rings } : { stats, seconds: (Date.now() - t0) / 1000, rings, quality }, null, 2) + '\n');
    return 0;
  }
  if (!ringsOnly) {
    out(`accepted ${stats.accepted} events in ${((Date.now() - t0) / 1000).toFixed(1)} s; skipped ${JSON.stringify(stats.skipped)}\n`);
    out(`accounts tracked ${stats.accountsTracked} (evicted ${stats.accountsEvicted}); suspects ${analysis.suspects}; rings ${analysis.rings.length}; memory bound ${(stats.memoryBoundBytes / 2 ** 20).toFixed(0)} MiB\n`);
  }
  out(formatRings(rings, actions));
  if (quality) for (const [a, q] of Object.entries(quality)) out(`at ≥${a}: ${JSON.stringify(q)}\n`);
  return 0;
}

function formatRings(rings: Ring[], actions: Map<string, AccountAction>): string {
  if (rings.length === 0) return 'no rings\n';
  const lines = rings.map((r) => {
    const acts: Record<string, number> = {};
    for (const m of r.members) {
      const a = actions.get(m)?.action ?? 'none';
      acts[a] = (acts[a] ?? 0) + 1;
    }
    const ev = r.evidence.slice(0, 4).map((e) => `${e.signal}=${e.strength}`).join(' ');
    return `${r.id.padEnd(28)} ${String(r.members.length).padStart(6)} ${r.score.toFixed(3)}  ${new Date(r.firstSeen).toISOString().slice(0, 16)} → ${new Date(r.lastSeen).toISOString().slice(0, 16)}  ${JSON.stringify(acts)}${r.explainedByOrg ? ` org=${r.explainedByOrg}` : ''}\n    ${ev}`;
  });
  return `${'ring'.padEnd(28)} ${'size'.padStart(6)} score  first → last  actions\n${lines.join('\n')}\n`;
}
