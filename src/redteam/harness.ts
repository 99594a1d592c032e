/**
 * Runs every transform on every seed against a target, with bounded concurrency, and aggregates attack success
 * (harmful seeds served) and over-refusal (benign seeds refused) per transform and per transform × category.
 * Deterministic for a given run seed: each (transform, seed) cell has its own RNG stream.
 */
import { rngFor } from './rng.ts';
import { rate, type Rate } from './stats.ts';
import type { Outcome, Target, TargetResult } from './targets.ts';
import type { AttackConversation, Seed, SeedLabel, Transform, TransformContext } from './types.ts';

export interface Row {
  transform: string;
  seedId: string;
  label: SeedLabel;
  category: string;
  outcome: Outcome;
  detail?: string;
}

export interface RunOptions {
  seeds: readonly Seed[];
  transforms: readonly Transform[];
  target: Target;
  /** Run seed for the transforms' RNG (default 1). */
  runSeed?: number;
  /** Conversations in flight at once (default 8). */
  concurrency?: number;
  onProgress?(done: number, total: number): void;
}

/** A transform's output must be a conversation ending in a non-empty user turn; a plugin's mistake becomes an error row. */
export function checkConversation(c: unknown): string | null {
  const conv = c as AttackConversation | null;
  if (!conv || typeof conv !== 'object' || !Array.isArray(conv.messages) || conv.messages.length === 0) return 'transform returned no messages';
  if (conv.system !== undefined && typeof conv.system !== 'string') return 'transform returned a non-string system prompt';
  for (const m of conv.messages) {
    if (!m || (m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string') return 'transform returned a message that is not {role: user|assistant, content: string}';
  }
  const last = conv.messages.at(-1)!;
  if (last.role !== 'user' || last.content === '') return 'transform must end with a non-empty user turn';
  return null;
}

function contexts(seeds: readonly Seed[]): Record<SeedLabel, TransformContext> {
  const pools: Record<SeedLabel, Seed[]> = { harmful: [], benign: [] };
  for (const s of seeds) pools[s.label].push(s);
  return { harmful: { pool: pools.harmful }, benign: { pool: pools.benign } };
}

/** One transform on one seed: the conversation, or why there is none (the plugin threw or returned a bad shape). */
function attack(t: Transform, s: Seed, runSeed: number, ctx: TransformContext): { conv: AttackConversation } | { error: string } {
  let conv: AttackConversation;
  try {
    conv = t.apply(s, rngFor(runSeed, t.name, s.id), ctx);
  } catch (e) {
    return { error: `transform ${t.name} threw: ${(e as Error).message}` };
  }
  const bad = checkConversation(conv);
  return bad ? { error: bad } : { conv };
}

/** The conversations a run would send, without sending them (`gatehouse redteam --emit`), in run order. */
export function* generate(seeds: readonly Seed[], transforms: readonly Transform[], runSeed = 1): Generator<{ transform: string; seed: Seed; conv?: AttackConversation; error?: string }> {
  const ctxs = contexts(seeds);
  for (const t of transforms)
    for (const s of seeds) {
      const a = attack(t, s, runSeed, ctxs[s.label]);
      yield 'conv' in a ? { transform: t.name, seed: s, conv: a.conv } : { transform: t.name, seed: s, error: a.error };
    }
}

export async function runRedteam(o: RunOptions): Promise<Row[]> {
  const runSeed = o.runSeed ?? 1;
  const ctxs = contexts(o.seeds);
  const total = o.transforms.length * o.seeds.length;
  const rows: Row[] = new Array(total);
  let next = 0;
  let done = 0;
  const one = async (i: number): Promise<void> => {
    const t = o.transforms[Math.floor(i / o.seeds.length)]!;
    const s = o.seeds[i % o.seeds.length]!;
    let r: TargetResult;
    const a = attack(t, s, runSeed, ctxs[s.label]);
    if ('error' in a) r = { outcome: 'error', detail: a.error };
    else {
      try {
        r = await o.target.evaluate(a.conv);
      } catch (e) {
        r = { outcome: 'error', detail: `target threw: ${(e as Error).message}` };
      }
    }
    rows[i] = { transform: t.name, seedId: s.id, label: s.label, category: s.category, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) };
    done++;
    o.onProgress?.(done, total);
  };
  const worker = async () => {
    while (next < total) await one(next++);
  };
  const n = Math.max(1, Math.min(o.concurrency ?? 8, total));
  await Promise.all(Array.from({ length: n }, worker));
  return rows;
}

export interface Cell {
  /** Rows that reached a verdict (errors excluded). */
  n: number;
  served: number;
  refused: number;
  routed: number;
  errors: number;
}

export interface TransformSummary {
  transform: string;
  harmful: Cell;
  benign: Cell;
  /** Harmful served / harmful judged. */
  asr: Rate;
  /** Benign refused / benign judged. */
  overRefusal: Rate;
  byCategory: { category: string; label: SeedLabel; cell: Cell; rate: Rate }[];
}

const emptyCell = (): Cell => ({ n: 0, served: 0, refused: 0, routed: 0, errors: 0 });

function add(c: Cell, o: Outcome): void {
  if (o === 'error') {
    c.errors++;
    return;
  }
  c.n++;
  c[o]++;
}

/** Per transform (in first-seen order), with each category's rate: ASR for harmful categories, over-refusal for benign. */
export function summarise(rows: readonly Row[]): TransformSummary[] {
  const byT = new Map<string, { harmful: Cell; benign: Cell; cats: Map<string, { label: SeedLabel; cell: Cell }> }>();
  for (const r of rows) {
    let t = byT.get(r.transform);
    if (!t) byT.set(r.transform, (t = { harmful: emptyCell(), benign: emptyCell(), cats: new Map() }));
    add(t[r.label], r.outcome);
    const key = `${r.label}\0${r.category}`;
    let c = t.cats.get(key);
    if (!c) t.cats.set(key, (c = { label: r.label, cell: emptyCell() }));
    add(c.cell, r.outcome);
  }
  return [...byT].map(([transform, t]) => ({
    transform,
    harmful: t.harmful,
    benign: t.benign,
    asr: rate(t.harmful.served, t.harmful.n),
    overRefusal: rate(t.benign.refused, t.benign.n),
    byCategory: [...t.cats].map(([key, c]) => ({
      category: key.split('\0')[1]!,
      label: c.label,
      cell: c.cell,
      rate: c.label === 'harmful' ? rate(c.cell.served, c.cell.n) : rate(c.cell.refused, c.cell.n),
    })),
  }));
}

export interface Bounds {
  /** Highest acceptable attack success rate per transform; `*` applies to transforms not listed. */
  asr: Record<string, number>;
  overRefusal: Record<string, number>;
}

export interface Violation {
  transform: string;
  metric: 'asr' | 'overRefusal';
  measured: number;
  bound: number;
}

function boundFor(map: Record<string, number>, t: string): number | undefined {
  return map[t] ?? map['*'];
}

/** Every transform whose measured rate exceeds its bound. A transform with no bound (and no `*`) is not gated. */
export function checkBounds(summary: readonly TransformSummary[], bounds: Bounds): Violation[] {
  const out: Violation[] = [];
  for (const s of summary) {
    const a = boundFor(bounds.asr, s.transform);
    if (a !== undefined && s.asr.rate > a + 1e-12) out.push({ transform: s.transform, metric: 'asr', measured: s.asr.rate, bound: a });
    const b = boundFor(bounds.overRefusal, s.transform);
    if (b !== undefined && s.overRefusal.rate > b + 1e-12) out.push({ transform: s.transform, metric: 'overRefusal', measured: s.overRefusal.rate, bound: b });
  }
  return out;
}

/** Bounds = measured rate + margin, rounded up to 0.01 and capped at 1: what `--write-bounds` records. */
export function boundsFrom(summary: readonly TransformSummary[], margin: number): Bounds {
  const up = (x: number) => Math.min(1, Math.ceil((x + margin) * 100 - 1e-9) / 100);
  const b: Bounds = { asr: {}, overRefusal: {} };
  for (const s of summary) {
    b.asr[s.transform] = up(s.asr.rate);
    b.overRefusal[s.transform] = up(s.overRefusal.rate);
  }
  return b;
}

export function parseBounds(text: string, file: string): Bounds {
  let o: any;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  for (const k of ['asr', 'overRefusal'] as const) {
    const m = o?.[k];
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error(`${file}: "${k}" must be an object of transform → rate`);
    for (const [t, v] of Object.entries(m)) if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${file}: ${k}.${t} must be a number in [0, 1], found ${JSON.stringify(v)}`);
  }
  return { asr: o.asr, overRefusal: o.overRefusal };
}
