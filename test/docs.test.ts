/** The documentation speaks of the product: no tracker numbers, no notes on who must do what, nothing outside the repository. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../src/cli/main.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function docFiles(): string[] {
  const files = ['README.md', 'BENCHMARKS.md'];
  for (const dir of ['docs', 'bench/results']) for (const f of readdirSync(join(root, dir))) if (f.endsWith('.md')) files.push(`${dir}/${f}`);
  for (const dir of ['src', 'models', 'bench', 'config', 'test']) {
    for (const f of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) if (f.endsWith('README.md')) files.push(`${dir}/${f}`);
  }
  return files;
}

// Tested on the prose only: inline code (`--nationality #2`, `PKCS#8`) is left out, except for paths.
const FORBIDDEN: [RegExp, string][] = [
  [/\bissues? #?\d+\b|(?:^|[\s(])#\d+\b/i, 'an internal tracker number'],
  [/\bthe lead\b|\b(?:this|previous|next|earlier) session\b|\bdevelopment agents?\b|\bother agents?\b/i, 'a note about who works on the project'],
  [/\bTODO\b|\bFIXME\b|\bTBD\b/, 'a to-do note'],
  [/\.\.\/shared\b|\/work\//, 'a path outside the repository'],
];

test('docs carry no tracker numbers, no who-must-do-what notes and no paths outside the repository', () => {
  const found: string[] = [];
  const files = docFiles();
  assert.ok(files.length > 20, 'the docs were found');
  for (const file of files) {
    readFileSync(join(root, file), 'utf8').split('\n').forEach((line, i) => {
      const prose = line.replace(/`[^`]*`/g, '``');
      for (const [re, what] of FORBIDDEN) if (re.test(what.startsWith('a path') ? line : prose)) found.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
    });
  }
  assert.deepEqual(found, []);
});

test('the README CLI reference lists every command, and its set-up commands exist', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const cli = readme.slice(readme.indexOf('## CLI'), readme.indexOf('## HTTP API'));
  for (const name of Object.keys(COMMANDS)) assert.match(cli, new RegExp(`\\| \`${name}\\b|· \`${name}\\b`), `README CLI table lists ${name}`);
  for (const [name, entry] of Object.entries(COMMANDS)) for (const sub of entry.subcommands ?? []) assert.ok(cli.includes(sub), `README CLI table mentions ${name} ${sub}`);
  assert.match(readme, /npm install && npm start/);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  for (const m of readme.matchAll(/\bnpm run ([a-z][a-z:-]*)/g)) {
    const script = m[1]!;
    assert.ok(pkg.scripts[script], `README mentions npm run ${script}, which package.json does not define`);
  }
  for (const m of readme.matchAll(/`((?:config|docs|src|bin|models|bench|scripts)\/[A-Za-z0-9._/-]+)`/g)) {
    assert.ok(existsSync(join(root, m[1]!)), `README names ${m[1]}, which does not exist`);
  }
});
