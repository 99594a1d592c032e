#!/usr/bin/env node
/**
 * `npm run lint:deps`: checks src/'s imports against the house rules in .dependency-cruiser.cjs.
 *   --root DIR   check DIR/src instead of this repository's (the architecture test checks a copy with a bad import)
 *
 * dependency-cruiser reads TypeScript through the TypeScript compiler's JavaScript API, which TypeScript 7 (this
 * project's compiler) no longer has. So this script lays out the import graph itself — every `import`/`export … from`
 * and `import()` of each src/ file, type-only imports included (a type import is a dependency too) — as one small
 * JavaScript module per source file in a scratch tree with the same paths, and dependency-cruiser resolves and
 * judges that graph: cycles, floors and capability-to-capability arrows. Exit code: 0 clean, 1 violations (or a failure to run).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? resolve(args[rootAt + 1] ?? '.') : repo;

/** Static imports and re-exports (possibly spanning lines), side-effect imports, and import() with a literal. */
const SPECIFIERS = [/(?:^|[\n;])\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"\n]+)['"]/g, /(?:^|[\n;])\s*import\s*['"]([^'"\n]+)['"]/g, /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g];

/** Comments would otherwise lend their example imports to the graph. Strings are left alone: specifiers live there. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');
}

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'gh-deps-'));
try {
  let files = 0;
  for (const file of sources(join(root, 'src'))) {
    const text = stripComments(readFileSync(file, 'utf8'));
    const specs = new Set();
    for (const re of SPECIFIERS) for (const m of text.matchAll(re)) if (m[1].startsWith('.')) specs.add(m[1].replace(/\.ts$/, '.js'));
    const out = join(scratch, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, [...specs].map((s) => `import ${JSON.stringify(s)};\n`).join(''));
    files++;
  }
  const bin = join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const r = spawnSync(process.execPath, [bin, 'src', '--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', 'err-long'], { cwd: scratch, encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  if (r.status === 0) process.stdout.write(`lint:deps: ${files} modules under ${relative(process.cwd(), join(root, 'src')) || 'src'} follow the rules\n`);
  // dependency-cruiser exits with the number of violations; callers want 0 or 1.
  process.exitCode = r.status === 0 ? 0 : 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
