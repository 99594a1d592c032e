#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ to dist/ with TypeScript (tsconfig.build.json) and copies the data files the code
 * reads at run time beside it (country groups, seed and held-out JSONL), so dist/ runs on plain Node.
 *   --out DIR             write there instead of dist/ (tests build into a scratch tree)
 *   --if-typescript       (npm `prepare`) when TypeScript is not installed — an install without dev
 *                         dependencies — keep an existing dist/ instead of failing
 * The embedded classifier artefact stays in models/ at the package root; dist/classify finds it at ../../models.
 * The web console (console-ui/, Preact bundled by esbuild) is built into dist/console-ui/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? resolve(args[outIndex + 1] ?? '') : join(root, 'dist');
const ifTypescript = args.includes('--if-typescript');

let tsc;
try {
  const require = createRequire(join(root, 'package.json'));
  const pkgPath = require.resolve('typescript/package.json');
  const bin = JSON.parse(readFileSync(pkgPath, 'utf8')).bin;
  tsc = join(dirname(pkgPath), typeof bin === 'string' ? bin : bin.tsc);
} catch {
  if (ifTypescript && existsSync(join(out, 'cli', 'main.js'))) {
    process.stdout.write('build: TypeScript is not installed (no dev dependencies); keeping the existing dist/\n');
    process.exit(0);
  }
  process.stderr.write('build: TypeScript is not installed; run `npm install` (with dev dependencies) first\n');
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${r.status ?? r.signal})\n`);
  process.exit(1);
}

// Data files read through `new URL('./file', import.meta.url)`: everything under src/ that is not code or a README.
let copied = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (!e.name.endsWith('.ts') && e.name !== 'README.md') {
      const dest = join(out, relative(join(root, 'src'), p));
      mkdirSync(dirname(dest), { recursive: true });
      cpSync(p, dest);
      copied++;
    }
  }
};
walk(join(root, 'src'));
let consoleNote = 'console built';
try {
  const { buildConsole } = await import('../console-ui/build.mjs');
  await buildConsole(join(out, 'console-ui'));
} catch (err) {
  // esbuild is a development dependency: an install without them keeps serving the API, and /console says why it is absent.
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && ifTypescript) consoleNote = 'console not built (no development dependencies)';
  else {
    process.stderr.write(`build: the console failed to build: ${err && err.message}\n`);
    process.exit(1);
  }
}
process.stdout.write(`build: ${relative(process.cwd(), out) || '.'} ready (${copied} data files copied, ${consoleNote})\n`);
