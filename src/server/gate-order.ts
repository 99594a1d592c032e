/**
 * The gate chain of the request path, declared as data: the one place its order is written down. The composition
 * root (compose.ts) fills one slot per entry with the capability's gate (or null when that capability is off) and
 * `orderGates` lays them out in this order; the request path runs them front to back for every model it decides
 * (a `route` verdict restarts the chain on the new model).
 */
import type { RequestGate } from '../core/gates.ts';

export const GATE_ORDER = [
  { name: 'abuse', why: 'cheapest and account-level: a suspended or throttled account is refused before any other work' },
  { name: 'screening', why: 'a denied-party hit blocks the governed models whatever policy says' },
  { name: 'access', why: 'directives first (deny-overrides), then policy rules and licences; may route to another model' },
  { name: 'classifier', why: 'needs the final model and the principal tier; the costliest decision, so after the cheap refusals' },
  { name: 'limits', why: 'admits and charges: last, so refused requests cost no quota' },
] as const;

export type GateName = (typeof GATE_ORDER)[number]['name'];

/** The gates in `GATE_ORDER`, leaving out the slots that are null (capability off). A gate must sit in its own slot. */
export function orderGates(slots: Readonly<Record<GateName, RequestGate | null>>): readonly RequestGate[] {
  const gates: RequestGate[] = [];
  for (const { name } of GATE_ORDER) {
    const gate = slots[name];
    if (!gate) continue;
    if (gate.name !== name) throw new Error(`gate '${gate.name}' placed in the '${name}' slot of the gate order`);
    gates.push(gate);
  }
  return Object.freeze(gates);
}
