/**
 * Seed sets: JSONL, one `{"text", "label": "harmful"|"benign", "category"?, "id"?}` per line (extra fields are
 * ignored, so the normalised files of common public sets load as they are). A bad line is reported with its line
 * number and skipped; it never stops the others from loading.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import type { Seed } from './types.ts';

export const SHIPPED_SEEDS = [
  fileURLToPath(new URL('./seeds/harmful.jsonl', import.meta.url)),
  fileURLToPath(new URL('./seeds/benign.jsonl', import.meta.url)),
];

export interface SeedError {
  file: string;
  line: number;
  message: string;
}

export interface LoadedSeeds {
  seeds: Seed[];
  errors: SeedError[];
}

export function parseSeeds(text: string, file: string): LoadedSeeds {
  const seeds: Seed[] = [];
  const errors: SeedError[] = [];
  const name = basename(file).replace(/\.jsonl$/, '');
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    const fail = (message: string) => errors.push({ file, line, message });
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message})`);
      continue;
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      fail('expected a JSON object');
      continue;
    }
    const r = o as Record<string, unknown>;
    if (typeof r.text !== 'string' || r.text.trim() === '') {
      fail('"text" must be a non-empty string');
      continue;
    }
    if (r.label !== 'harmful' && r.label !== 'benign') {
      fail(`"label" must be "harmful" or "benign", found ${JSON.stringify(r.label)}`);
      continue;
    }
    if (r.category !== undefined && r.category !== null && typeof r.category !== 'string') {
      fail('"category" must be a string or null');
      continue;
    }
    const id = typeof r.id === 'string' && r.id !== '' ? r.id : typeof r.id === 'number' ? `${name}:${r.id}` : `${name}:${line}`;
    seeds.push({ id, text: r.text, label: r.label, category: typeof r.category === 'string' && r.category !== '' ? r.category : 'uncategorised' });
  }
  return { seeds, errors };
}

export function loadSeedFile(file: string): LoadedSeeds {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { seeds: [], errors: [{ file, line: 0, message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }] };
  }
  return parseSeeds(text, file);
}

export function loadSeedFiles(files: readonly string[]): LoadedSeeds {
  const out: LoadedSeeds = { seeds: [], errors: [] };
  const ids = new Set<string>();
  for (const f of files) {
    const r = loadSeedFile(f);
    out.errors.push(...r.errors);
    for (const s of r.seeds) {
      // Ids key the RNG streams and the report rows; two files may reuse line-number ids, so make them unique.
      let id = s.id;
      for (let k = 2; ids.has(id); k++) id = `${s.id}#${k}`;
      ids.add(id);
      out.seeds.push(id === s.id ? s : { ...s, id });
    }
  }
  return out;
}

/**
 * At most `n` seeds per (label, category), chosen deterministically by the SHA-256 of id and `salt` — a stable
 * sample of a large set that does not depend on file order.
 */
export function samplePerCategory(seeds: readonly Seed[], n: number, salt = ''): Seed[] {
  const groups = new Map<string, { s: Seed; k: string }[]>();
  for (const s of seeds) {
    const g = `${s.label}\0${s.category}`;
    const k = createHash('sha256').update(salt + '\0' + s.id).digest('hex');
    (groups.get(g) ?? groups.set(g, []).get(g)!).push({ s, k });
  }
  const out: Seed[] = [];
  for (const list of groups.values()) out.push(...list.sort((a, b) => (a.k < b.k ? -1 : 1)).slice(0, n).map((x) => x.s));
  const order = new Map(seeds.map((s, i) => [s, i]));
  return out.sort((a, b) => order.get(a)! - order.get(b)!);
}
