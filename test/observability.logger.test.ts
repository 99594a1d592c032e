/** The logger censors credential paths without touching the logged objects. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pino from 'pino';
import { censorSecrets, createLogger } from '../src/observability/logger.ts';

function capture(): { dest: pino.DestinationStream; lines: () => Record<string, any>[] } {
  const out: string[] = [];
  return { dest: { write: (s: string) => void out.push(s) }, lines: () => out.map((l) => JSON.parse(l)) };
}

test('every credential path is censored', () => {
  const input = {
    apiKey: 'k1',
    secret: 's1',
    headers: { authorization: 'Bearer x', 'x-api-key': 'y', accept: '*/*' },
    req: { method: 'POST', headers: { authorization: 'Bearer z', 'x-api-key': 'w', host: 'h' } },
    provider: { apiKey: 'k2', name: 'p' },
    list: [{ secret: 's2' }],
    keep: 'visible',
  };
  const out = censorSecrets(input) as typeof input;
  assert.deepEqual(out, {
    apiKey: '[redacted]',
    secret: '[redacted]',
    headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: '*/*' },
    req: { method: 'POST', headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', host: 'h' } },
    provider: { apiKey: '[redacted]', name: 'p' },
    list: input.list, // arrays are only scanned one level down, like the paths say: list[0] is not *.secret
    keep: 'visible',
  });
  assert.equal(input.apiKey, 'k1', 'the logged object is not mutated');
  assert.equal(input.headers.authorization, 'Bearer x');
  assert.equal(input.req.headers['x-api-key'], 'w');
  assert.equal(input.provider.apiKey, 'k2');
});

test('a line with nothing to censor is passed through as is', () => {
  const line = { requestId: 'r', status: 200, stream: false, latencyMs: 1.5, nested: { a: 1 } };
  assert.equal(censorSecrets(line), line);
});

test('log lines and child bindings go out censored, levels as labels', () => {
  const c = capture();
  const log = createLogger('info', c.dest);
  log.info({ apiKey: 'sekrit', user: 'u' }, 'hello');
  log.child({ secret: 'bound' }).info({ headers: { authorization: 'Bearer t' } }, 'child');
  log.debug({ x: 1 }, 'not at info');
  const [a, b] = c.lines();
  assert.equal(c.lines().length, 2);
  assert.equal(a!.level, 'info');
  assert.equal(a!.service, 'gatehouse');
  assert.equal(a!.apiKey, '[redacted]');
  assert.equal(a!.user, 'u');
  assert.equal(b!.secret, '[redacted]');
  assert.equal(b!.headers.authorization, '[redacted]');
  assert.ok(!JSON.stringify(c.lines()).includes('sekrit'));
  assert.ok(!JSON.stringify(c.lines()).includes('Bearer t'));
});
