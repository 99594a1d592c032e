/**
 * The container both traffic generators fill (`simulate.ts` and `population/generate.ts`): accounts with their
 * ground-truth labels, an interned table of network prefixes, and events kept in a growable struct-of-arrays store
 * and materialised one at a time in time order. Only this container is shared: how the traffic is generated
 * (PRNG, distributions, text, address plans) stays independent in each generator.
 */
import type { AbuseEvent, AccountMeta } from './types.ts';

type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A copy of a typed array with twice its capacity (or `cap`), contents kept: the store's growth step. */
export function grown<A extends Column>(a: A, cap = a.length * 2): A {
  const b = new (a.constructor as { new (n: number): A })(cap);
  b.set(a);
  return b;
}

export abstract class LabelledTraffic<L, A extends { meta: AccountMeta; label: L }> {
  readonly accounts: A[] = [];
  readonly prefixes: string[] = [];
  private readonly prefixIds = new Map<string, number>();
  /** Event indices in time order once sorted; null: insertion order. */
  private order: Uint32Array | null = null;
  abstract readonly store: { readonly n: number; readonly time: Float64Array };

  /** The index of a network prefix in `prefixes`, added on first use. */
  prefixId(p: string): number {
    let i = this.prefixIds.get(p);
    if (i === undefined) {
      i = this.prefixes.length;
      this.prefixes.push(p);
      this.prefixIds.set(p, i);
    }
    return i;
  }

  get eventCount(): number {
    return this.store.n;
  }

  /** Ground truth: each account's label. */
  labels(): Map<string, L> {
    return new Map(this.accounts.map((a) => [a.meta.accountId, a.label]));
  }

  /** Puts the events in time order (ties in insertion order). */
  protected sortEvents(): void {
    const st = this.store;
    const idx = new Uint32Array(st.n);
    for (let i = 0; i < st.n; i++) idx[i] = i;
    idx.sort((a, b) => st.time[a]! - st.time[b]! || a - b);
    this.order = idx;
  }

  /** The event stored at insertion index `i`. */
  protected abstract materialise(i: number): AbuseEvent;

  /** Materialises event k of the time order. */
  event(k: number): AbuseEvent {
    return this.materialise(this.order ? this.order[k]! : k);
  }

  *events(): Generator<AbuseEvent> {
    for (let k = 0; k < this.store.n; k++) yield this.event(k);
  }

  /** Account records first, then request events in time order (the order a detector reads a stream in). */
  *records(): Generator<Record<string, unknown>> {
    for (const a of this.accounts) yield { kind: 'account', ...a.meta };
    for (const e of this.events()) yield { kind: 'request', ...e };
  }
}
