/**
 * The transform registry: the built-in transforms are the modules in ./transforms/, and users add their own with
 * `--transforms <dir>` — every .js/.mjs/.ts module there exporting `transform` (or a default export) that is a
 * Transform or an array of them. Both go through the same loader and the same shape check.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Transform } from './types.ts';

export const BUILTIN_DIR = fileURLToPath(new URL('./transforms/', import.meta.url));
/** Display order of the built-ins, by family: reference, padding, hiding in code, encodings, obfuscation, wrappers, placement and multi-turn. */
export const BUILTIN_ORDER = [
  'identity',
  'pad-whitespace-before', 'pad-whitespace-after', 'pad-whitespace-around', 'pad-prose-before', 'pad-prose-after', 'pad-prose-around',
  'pad-code-before', 'pad-code-after',
  'code-comment', 'docstring',
  'base64', 'base64x2', 'hex', 'url', 'rot13', 'reversed', 'html-entities', 'unicode-escapes', 'tag-chars', 'encoding-chain',
  'homoglyph', 'leetspeak',
  'roleplay', 'fiction', 'grandma', 'research', 'dan', 'prefix-injection', 'refusal-suppression',
  'system-prompt', 'split-turns', 'many-shot',
];
const NAME = /^[a-z0-9][a-z0-9-]*$/;
const MODULE = /\.(m?js|ts)$/;

function check(t: unknown, where: string): Transform {
  const o = t as Partial<Transform> | null;
  if (!o || typeof o !== 'object') throw new Error(`${where}: expected a Transform object {name, description, apply}`);
  if (typeof o.name !== 'string' || !NAME.test(o.name)) throw new Error(`${where}: transform name must be kebab-case ([a-z0-9-]), found ${JSON.stringify(o.name)}`);
  if (typeof o.description !== 'string') throw new Error(`${where}: transform ${o.name} has no description string`);
  if (typeof o.apply !== 'function') throw new Error(`${where}: transform ${o.name} has no apply(seed, rng, ctx) function`);
  return o as Transform;
}

/** Every transform exported by the modules of `dir` (files sorted by name, so the order is stable). */
export async function loadTransformsFrom(dir: string): Promise<Transform[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => MODULE.test(f) && !f.endsWith('.d.ts') && !f.startsWith('.')).sort();
  } catch (e) {
    throw new Error(`transforms directory ${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: Transform[] = [];
  for (const f of files) {
    const path = resolve(join(dir, f));
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${path}: cannot be loaded: ${(e as Error).message}`);
    }
    const exported = mod.transform ?? mod.default;
    if (exported === undefined) throw new Error(`${path}: exports neither \`transform\` nor a default Transform`);
    for (const t of Array.isArray(exported) ? exported : [exported]) out.push(check(t, path));
  }
  return out;
}

/** The built-ins (in BUILTIN_ORDER, identity first as the reference row) followed by the extra directories' transforms; names must be unique. */
export async function loadTransforms(extraDirs: readonly string[] = []): Promise<Transform[]> {
  const builtin = await loadTransformsFrom(BUILTIN_DIR);
  const rank = (n: string) => {
    const i = BUILTIN_ORDER.indexOf(n);
    return i < 0 ? BUILTIN_ORDER.length : i;
  };
  builtin.sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const all = [...builtin];
  for (const d of extraDirs) all.push(...(await loadTransformsFrom(d)));
  const seen = new Set<string>();
  for (const t of all) {
    if (seen.has(t.name)) throw new Error(`transform name ${t.name} is defined twice`);
    seen.add(t.name);
  }
  return all;
}

/** The transforms named in `names` (comma-separated on the CLI), in the given order; an unknown name is an error listing the known ones. */
export function selectTransforms(all: readonly Transform[], names: readonly string[] | null): Transform[] {
  if (!names) return [...all];
  const byName = new Map(all.map((t) => [t.name, t]));
  return names.map((n) => {
    const t = byName.get(n);
    if (!t) throw new Error(`unknown transform ${n}; known: ${all.map((x) => x.name).join(', ')}`);
    return t;
  });
}
