import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestGate } from '../src/core/gates.ts';
import { GATE_ORDER, orderGates } from '../src/server/gate-order.ts';

const gate = (name: string): RequestGate => ({ name, check: () => ({ action: 'allow' }) });

test('the gate chain is laid out in GATE_ORDER, whatever order the slots are given in', () => {
  assert.deepEqual(GATE_ORDER.map((g) => g.name), ['abuse', 'screening', 'access', 'classifier', 'limits']);
  const gates = orderGates({ limits: gate('limits'), classifier: gate('classifier'), access: gate('access'), screening: gate('screening'), abuse: gate('abuse') });
  assert.deepEqual(gates.map((g) => g.name), ['abuse', 'screening', 'access', 'classifier', 'limits']);
  assert.ok(Object.isFrozen(gates));
});

test('a capability that is off leaves its slot out of the chain', () => {
  const gates = orderGates({ abuse: null, screening: gate('screening'), access: gate('access'), classifier: null, limits: gate('limits') });
  assert.deepEqual(gates.map((g) => g.name), ['screening', 'access', 'limits']);
});

test('a gate placed in another gate\'s slot is refused at composition', () => {
  assert.throws(() => orderGates({ abuse: null, screening: null, access: gate('limits'), classifier: null, limits: null }), /gate 'limits' placed in the 'access' slot/);
});
