/**
 * `gatehouse config check` validates exactly what `serve` validates, reports every problem at once as
 * file:line:col, and paths in a config resolve against the config file's directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeGateway } from '../src/server/compose.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = import.meta.resolve('tsx');

/** The CLI from source, started from `cwd` (tsx is resolved from this repository, not from cwd). */
function cli(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

test('config check and serve report the same problems, all at once, each at its file:line:col', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-check-'));
  try {
    const config = join(dir, 'gw.yaml');
    writeFileSync(config, [
      'providers:', //                                                      1
      '  sim: { type: simulator }', //                                      2
      'models:', //                                                         3
      '  - name: a', //                                                     4
      '    provider: sim', //                                               5
      '    upstreamModel: m', //                                            6
      '    fallbacks: [ghost]', //                                          7
      '  - name: b', //                                                     8
      '    provider: nosuch', //                                            9
      '    upstreamModel: m', //                                           10
      'policy:', //                                                        11
      '  file: policy.yaml', //                                            12
      'identity:', //                                                      13
      '  keys:', //                                                        14
      '    - { secretEnv: GH_CHECK_TEST_UNSET_VAR, accountId: acct }', //  15
      'classify:', //                                                      16
      '  model: no-such-model.bin', //                                     17
      '  tiers:', //                                                       18
      '    general:', //                                                   19
      '      bio-chem: { action: "route:nowhere", threshold: 0.5 }', //    20
      'audit:', //                                                         21
      '  path: audit/audit.jsonl', //                                      22
      '  signingKey: keys/missing.pem', //                                 23
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'policy.yaml'), [
      'version: 1', //                               1
      'default: allow', //                           2
      'rules:', //                                   3
      '  - id: r1', //                               4
      '    models: [not-in-catalogue]', //           5
      '    when: { residence: { in: [US] } }', //    6
      '    action: deny', //                         7
      '',
    ].join('\n'));
    const expected = [
      /gw\.yaml:7:\d+: models\[0\]\.fallbacks\[0\]: expected a configured model name, found 'ghost'/,
      /gw\.yaml:9:\d+: models\[1\]\.provider: expected one of the configured providers \(sim\), found 'nosuch'/,
      /gw\.yaml:20:\d+: classify\.tiers\.general\.bio-chem\.action: expected route:<a configured model name>, found 'route:nowhere'/,
      /policy\.yaml:5:\d+: rules\[0\]\.models\[0\]: .*not-in-catalogue/,
      /gw\.yaml:15:\d+: identity\.keys\[0\]\.secretEnv: environment variable GH_CHECK_TEST_UNSET_VAR is not set/,
      /gw\.yaml:17:\d+: classify\.model: classifier artefact .*no-such-model\.bin cannot be read/,
      /gw\.yaml:23:\d+: audit\.signingKey: cannot load the checkpoint signing key: .*missing\.pem.*audit keygen/,
    ];
    // From another directory: every relative path above is found (or not) beside the config file.
    const check = cli(['config', 'check', config], tmpdir());
    assert.equal(check.status, 1, check.stdout + check.stderr);
    for (const re of expected) assert.match(check.stderr, re);
    assert.match(check.stderr, /7 problems in /);
    const serve = cli(['serve', '--config', config, '--port', '0'], tmpdir());
    assert.equal(serve.status, 1, serve.stdout + serve.stderr);
    for (const re of expected) assert.match(serve.stderr, re);
    assert.ok(!existsSync(join(dir, 'audit')), 'serve stopped before opening anything');

    // Fixed, both accept it.
    writeFileSync(config, readFileSync(config, 'utf8')
      .replace('fallbacks: [ghost]', 'fallbacks: [b]').replace('provider: nosuch', 'provider: sim')
      .replace('route:nowhere', 'route:b').replace('no-such-model.bin', relative(dir, join(root, 'models/classifier/default.bin')))
      .replace('keys/missing.pem', 'keys/signing.pem'));
    writeFileSync(join(dir, 'policy.yaml'), readFileSync(join(dir, 'policy.yaml'), 'utf8').replace('not-in-catalogue', 'b'));
    const keygen = cli(['audit', 'keygen', '--out', join(dir, 'keys/signing.pem')]);
    assert.equal(keygen.status, 0, keygen.stderr);
    const ok = cli(['config', 'check', config], tmpdir(), { GH_CHECK_TEST_UNSET_VAR: 'a-secret-from-the-environment' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /OK \(2 models, 1 providers\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('YAML syntax errors are reported at their real line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-check-'));
  try {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'server:\n  port: 8080\nproviders:\n  sim: { type: simulator\nmodels: []\n');
    const r = cli(['config', 'check', config]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.yaml:[45]:\d+: \(root\): YAML syntax: /);
    assert.doesNotMatch(r.stderr, /bad\.yaml:0:/);
    const dup = join(dir, 'dup.yaml');
    writeFileSync(dup, 'providers:\n  sim: { type: simulator }\nmodels:\n  - { name: a, provider: sim, upstreamModel: m }\nproviders: {}\n');
    const d = cli(['config', 'check', dup]);
    assert.equal(d.status, 1);
    assert.match(d.stderr, /dup\.yaml:5:1: \(root\): YAML syntax: Map keys must be unique/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store and audit paths in a config resolve against its directory, not the working directory', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-paths-'));
  try {
    mkdirSync(join(dir, 'conf'));
    const config = join(dir, 'conf', 'gw.yaml');
    writeFileSync(config, [
      'server: { logLevel: silent }',
      'store: { url: "sqlite:../state/gatehouse.db" }',
      'providers: { sim: { type: simulator } }',
      'models: [{ name: a, provider: sim, upstreamModel: m }]',
      'audit: { path: ../state/audit/audit.jsonl }',
      '',
    ].join('\n'));
    assert.notEqual(process.cwd(), join(dir, 'conf'));
    // Where the paths would land if they resolved against the working directory (it may exist for other reasons).
    const wrongPlace = join(process.cwd(), '..', 'state', 'gatehouse.db');
    const wrongExisted = existsSync(wrongPlace);
    const composed = await composeGateway({ configPath: config, port: 0, env: {} });
    await composed.close();
    assert.ok(existsSync(join(dir, 'state', 'gatehouse.db')), 'the store is beside the config file');
    assert.ok(existsSync(join(dir, 'state', 'audit', 'audit.jsonl')), 'the audit log is beside the config file');
    assert.ok(wrongExisted || !existsSync(wrongPlace), 'nothing was created relative to the working directory');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
