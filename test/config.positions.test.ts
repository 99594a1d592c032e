/**
 * Where a config problem is reported: at the offending key for a map entry, at the deepest node that exists for a
 * missing one, and under record keys that read as numbers as well as under others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, type ConfigProblem } from '../src/config/load.ts';

function problems(lines: string[]): ConfigProblem[] {
  try {
    parseConfig(lines.join('\n') + '\n', 'gw.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('the config was accepted');
}

const BASE = ['providers:', '  sim: { type: simulator }', 'models:', '  - name: a', '    provider: sim', '    upstreamModel: m'];

test('an unknown key and a value of the wrong type are shown at their keys', () => {
  const found = problems([...BASE, 'server:', '  port: abc', '  colour: blue']);
  const port = found.find((p) => p.path === 'server.port');
  assert.deepEqual(port && [port.line, port.column], [8, 3], JSON.stringify(found));
  const unknown = found.find((p) => /unknown key 'colour'/.test(p.message));
  assert.deepEqual(unknown && [unknown.line, unknown.column], [9, 3], JSON.stringify(found));
});

test('a missing required field is shown at the entry that lacks it', () => {
  const found = problems(['providers:', '  sim: { type: simulator }', 'models:', '  - provider: sim', '    upstreamModel: m']);
  const name = found.find((p) => p.path === 'models[0].name');
  assert.ok(name, JSON.stringify(found));
  assert.match(name.message, /found nothing \(required\)/);
  assert.deepEqual([name.line, name.column], [4, 5]);
});

test('a problem under a record key that reads as a number is shown at its own key, not at the record', () => {
  const found = problems(['providers:', '  sim: { type: simulator }', '  1:', '    type: simulator', '    latencyMs: slow', 'models:', '  - name: a', '    provider: sim', '    upstreamModel: m']);
  const latency = found.find((p) => p.path === 'providers.1.latencyMs');
  assert.ok(latency, JSON.stringify(found));
  assert.deepEqual([latency.line, latency.column], [5, 5]);
});
