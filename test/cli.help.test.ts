/** Every command and subcommand answers --help (exit 0, usage on stdout, nothing run); --version prints the version. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { COMMANDS } from '../src/cli/main.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface Result {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
}

/** All invocations in one child process (see support/cli-capture.ts). */
function runAll(runs: string[][]): Result[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/support/cli-capture.ts', JSON.stringify(runs)], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as Result[];
}

const invocations: string[][] = [];
for (const [name, entry] of Object.entries(COMMANDS)) {
  invocations.push([name]);
  for (const sub of entry.subcommands ?? []) invocations.push([name, sub]);
}

test('every command and subcommand answers --help and -h with exit 0 and its usage; --version works', { timeout: 90_000 }, () => {
  assert.ok(invocations.length > 30, 'the command table lists the subcommands');
  const runs = [
    ['--help'], ['-h'], ['help'], ['--version'], ['-V'], ['version'],
    ...invocations.flatMap((argv) => [[...argv, '--help'], [...argv, '-h']]),
    // After `--`, a --help is data (here: a request id), not a request for help.
    ['audit', 'text', '--config', 'nonexistent.yaml', '--', '--help'],
  ];
  const results = runAll(runs);
  assert.equal(results.length, runs.length);
  const [help, h, helpWord, version, V, versionWord] = results;
  for (const r of [help, h, helpWord]) {
    assert.equal(r!.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(r!.stdout, new RegExp(`^  ${name} `, 'm'), `gatehouse ${r!.argv[0]} lists ${name}`);
  }
  for (const r of [version, V, versionWord]) {
    assert.equal(r!.code, 0);
    assert.equal(r!.stdout, `gatehouse ${pkg.version}\n`);
  }
  const failures: string[] = [];
  for (const r of results.slice(6, -1)) {
    const label = `gatehouse ${r.argv.join(' ')}`;
    if (r.code !== 0) failures.push(`${label}: exit ${r.code}: ${r.stderr.split('\n')[0]}`);
    else if (!/usage/i.test(r.stdout) || !new RegExp(`gatehouse ${r.argv[0]}\\b`).test(r.stdout)) failures.push(`${label}: no usage of its own on stdout`);
    else if (r.stderr !== '') failures.push(`${label}: wrote to stderr: ${r.stderr.split('\n')[0]}`);
  }
  assert.deepEqual(failures, []);
  assert.notEqual(results.at(-1)!.code, 0, 'a --help after -- is not a request for help');
});
