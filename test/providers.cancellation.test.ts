import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attemptTimer } from '../src/providers/http.ts';
import { Cancellation } from '../src/providers/types.ts';

test('a cancellation calls each listener once, on the first abort, and not after removal', () => {
  const c = new Cancellation();
  const calls: string[] = [];
  const a = () => calls.push('a');
  const b = () => calls.push('b');
  c.addEventListener('abort', a, { once: true });
  c.addEventListener('abort', b);
  c.removeEventListener('abort', b);
  assert.equal(c.aborted, false);
  c.abort();
  c.abort('again');
  assert.deepEqual(calls, ['a']);
  assert.equal(c.aborted, true);
  assert.equal((c.reason as Error).name, 'AbortError');
  c.addEventListener('abort', b); // already aborted: never called, as with an AbortSignal
  c.abort();
  assert.deepEqual(calls, ['a']);
});

test("an attempt's signal follows the request's cancellation until the attempt is done", () => {
  const request = new Cancellation();
  const first = attemptTimer(60_000, request);
  first.done();
  const second = attemptTimer(60_000, request);
  request.abort('client went away');
  assert.equal(first.signal.aborted, false, 'a finished attempt no longer follows the request');
  assert.equal(second.signal.aborted, true);
  assert.equal(second.signal.reason, 'client went away');
  second.done();
  const late = attemptTimer(60_000, request);
  assert.equal(late.signal.aborted, true, 'an attempt started after the abort starts aborted');
  late.done();
});
