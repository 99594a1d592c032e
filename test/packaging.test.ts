/**
 * What a fresh machine needs: a plain `npm install` with only the package registry (the optional onnxruntime-node may
 * be skipped), a compiled dist/ that runs on plain Node, and `engines` that tell the truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const hide = join(root, 'test/support/hide-packages.mjs');

function cli(args: string[], opts: { hidePackages?: string; cwd?: string; bin?: string } = {}) {
  const nodeArgs = opts.bin ? [opts.bin] : ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  if (opts.hidePackages) nodeArgs.unshift('--import', hide);
  return spawnSync(process.execPath, [...nodeArgs, ...args], {
    cwd: opts.cwd ?? root,
    encoding: 'utf8',
    env: { ...process.env, HIDE_PACKAGES: opts.hidePackages ?? '' },
    timeout: 60_000,
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
}

test('onnxruntime-node is an optional dependency that no module imports statically', () => {
  assert.ok(pkg.optionalDependencies?.['onnxruntime-node'], 'onnxruntime-node must be in optionalDependencies');
  assert.equal(pkg.dependencies['onnxruntime-node'], undefined, 'a failed install script of a required dependency fails `npm install`');
  for (const f of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /(from|import\()\s*['"]onnxruntime-node['"]/, `${f} imports onnxruntime-node directly`);
  }
});

test('install scripts: the SQLite driver builds; onnxruntime-node\'s download of GPU libraries never runs', () => {
  // npm 11.16+ reads allowScripts (npm 12 blocks unlisted scripts): better-sqlite3 needs its build, onnxruntime-node
  // ships its CPU runtime in the package and only fetches CUDA libraries (unused, and unreachable offline) in its script.
  assert.equal(pkg.allowScripts?.['better-sqlite3'], true);
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
});

test('without onnxruntime-node the demo config passes and a config with an ONNX stage names the package to install', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-pack-'));
  try {
    // The demo config (no ONNX stage) is valid and its classifier loads with the package absent.
    const demo = cli(['config', 'check', join(root, 'config/demo.yaml')], { hidePackages: 'onnxruntime-node' });
    assert.equal(demo.status, 0, demo.stderr);
    const onnxConfig = join(dir, 'onnx.yaml');
    writeFileSync(onnxConfig, [
      'providers:',
      '  sim: { type: simulator }',
      'models:',
      '  - { name: m, provider: sim, upstreamModel: m }',
      'classify:',
      '  cascade:',
      '    - type: onnx',
      '      path: head.onnx',
      '      bits: 12',
      '      labels: [bio-chem]',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'head.onnx'), 'not read: the runtime is missing first');
    const check = cli(['config', 'check', onnxConfig], { hidePackages: 'onnxruntime-node' });
    assert.equal(check.status, 1, check.stderr);
    assert.match(check.stderr, /onnx\.yaml:7:7: classify\.cascade\[0\]: onnx stage: the optional package onnxruntime-node is not installed .*npm install onnxruntime-node/);
    // serve refuses the same config with the same message, before opening anything.
    const serve = cli(['serve', '--config', onnxConfig, '--port', '0'], { hidePackages: 'onnxruntime-node' });
    assert.equal(serve.status, 1, serve.stderr);
    assert.match(serve.stderr, /classify\.cascade\[0\]: onnx stage: the optional package onnxruntime-node is not installed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engines: the Node range is within what every runtime dependency declares', () => {
  const require = createRequire(join(root, 'package.json'));
  const semver = require('semver') as { subset(a: string, b: string): boolean };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean; engines?: { node?: string } }> };
  // cookie@2 says node >= 22 but is only loaded by fastify's inject() (light-my-request, tests), through require() of
  // an ES module, which Node has done without a flag since 20.19 and 22.12 — the floor of our range.
  const knownLoose = new Set(['node_modules/cookie']);
  const tooWide: string[] = [];
  for (const [name, p] of Object.entries(lock.packages)) {
    if (!name || p.dev || !p.engines?.node || knownLoose.has(name)) continue;
    if (!semver.subset(pkg.engines.node, p.engines.node)) tooWide.push(`${name} wants ${p.engines.node}`);
  }
  assert.deepEqual(tooWide, [], `engines.node ${pkg.engines.node} allows Node versions these packages do not support`);
  assert.ok(semver.subset(pkg.engines.node, '>=20.19.0'), 'require(esm) needs Node 20.19 or later');
});

test('the TypeScript loader and compiler are development dependencies; npm start runs the compiled CLI', () => {
  for (const dev of ['tsx', 'typescript']) {
    assert.equal(pkg.dependencies[dev], undefined, `${dev} must not be a runtime dependency`);
    assert.ok(pkg.devDependencies[dev], `${dev} is a dev dependency`);
  }
  assert.match(pkg.scripts.start!, /^node bin\/gatehouse\.mjs serve /);
  assert.match(pkg.scripts.prepare!, /scripts\/build\.mjs/, 'npm install / npm ci build dist/');
  assert.doesNotMatch(readFileSync(join(root, 'bin/gatehouse.mjs'), 'utf8'), /(from|import\()\s*['"]tsx/);
});

test('npm run build emits a dist/ that runs on plain Node, with its data files', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-build-'));
  try {
    const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--out', join(dir, 'dist')], { cwd: root, encoding: 'utf8', timeout: 110_000 });
    assert.equal(build.status, 0, build.stderr + build.stdout);
    // An installed package: bin/, dist/, models/ and package.json side by side; node_modules without TypeScript tools.
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(root, 'bin/gatehouse.mjs'), join(dir, 'bin/gatehouse.mjs'));
    copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(root, 'models'), join(dir, 'models'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const bin = join(dir, 'bin/gatehouse.mjs');
    for (const f of readdirSync(join(dir, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))) {
      assert.doesNotMatch(readFileSync(join(dir, 'dist', f), 'utf8'), /from ['"][^'"]+\.ts['"]|from ['"]tsx/, `dist/${f} still imports TypeScript`);
    }
    const opts = { bin, hidePackages: 'tsx,typescript', cwd: dir };
    const version = cli(['--version'], opts);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), `gatehouse ${pkg.version}`);
    // config check compiles the policy (shipped country groups) and loads the classifier artefact from models/.
    const check = cli(['config', 'check', join(root, 'config/demo.yaml')], opts);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /OK \(4 models/);
    const classify = cli(['classify', '--text', 'How do I bake bread?'], opts);
    assert.equal(classify.status, 0, classify.stderr);
    assert.equal(JSON.parse(classify.stdout.trim().split('\n')[0]!).action, 'allow');
    // Without dist/, the command says how to build it.
    rmSync(join(dir, 'dist'), { recursive: true });
    const missing = cli(['--version'], opts);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /dist\/\) is missing\. Run `npm run build`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
