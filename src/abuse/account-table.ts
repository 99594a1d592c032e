/**
 * Bounded per-account state as a struct of typed arrays with an LRU list: the memory bound of the detector.
 * When full, the least recently active account is evicted (its partial evidence is lost, which favours recall
 * on active rings over idle history). Every per-event update is O(1) and allocation-free apart from first sight
 * of an account. The arrays start small and double as accounts arrive (up to 32,768 slots, then straight to
 * `capacity`): a gateway that has seen a few hundred accounts does not hold (and fill) the tables for the
 * configured maximum. Growth copies every array (amortised O(1) per account); slots keep their numbers.
 */
import { fmix32 } from '../core/random.ts';

export const HOURS = 24;
/** Misra–Gries slots per account for repeated prompt band keys (template detection). */
export const TEMPLATE_SLOTS = 6;
/** Misra–Gries slots per account for network prefixes. */
export const PREFIX_SLOTS = 2;
/** Misra–Gries slots per account for prompt structure keys (the structure half of promptShape). */
export const SHAPE_SLOTS = 2;
/** Bottom-k samples per account: distinct network prefixes and distinct prompt items (consistent samples). */
export const PFX_K = 8;
export const ITEM_K = 8;
/** 32-bit words of each linear-counting bitmap (distinct prefixes, distinct items). */
export const BITMAP_WORDS = 4;
const EMPTY = 0xffffffff;
/** Slots allocated at first; the table doubles from here as accounts arrive. */
const INITIAL_SLOTS = 1024;
/**
 * Past this many slots the next growth goes straight to the capacity: every growth copies the whole table on the
 * event loop, so large tables grow once (one pause, tens of milliseconds for 250,000 accounts) rather than at every
 * doubling.
 */
const LAST_DOUBLING = 32_768;

/** FNV-1a + murmur finaliser of a string, as an unsigned 32-bit value (no allocation). */
export function strHash(v: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/**
 * Bytes per account slot, upper bound: typed-array fields, pointer slots (8 bytes each) and the Map entry,
 * plus the strings those pointers hold (each at most `maxIdLength` chars, V8 one-byte strings ≈ 16 + length).
 */
export function bytesPerAccount(maxIdLength: number): number {
  const numeric = 4 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 8 + 8 + HOURS * 4 + TEMPLATE_SLOTS * 8 + PREFIX_SLOTS * 4 + 4 + 4 +
    SHAPE_SLOTS * 8 + (PFX_K + ITEM_K) * 4 + 2 * BITMAP_WORDS * 4 + 4 + 4;
  const pointers = 10 * 8;
  const mapEntry = 96;
  const strings = 10 * (16 + maxIdLength);
  return numeric + pointers + mapEntry + strings;
}

export class AccountTable {
  readonly index = new Map<string, number>();
  ids!: (string | undefined)[];
  req!: Uint32Array;
  reasoning!: Uint32Array;
  inTok!: Float64Array;
  outTok!: Float64Array;
  first!: Float64Array;
  last!: Float64Array;
  gapN!: Uint32Array;
  gapMean!: Float64Array;
  gapM2!: Float64Array;
  createdAt!: Float64Array;
  hours!: Uint32Array;
  tKey!: Int32Array;
  tCnt!: Uint32Array;
  pfx!: (string | undefined)[];
  pfxCnt!: Uint32Array;
  org!: (string | undefined)[];
  payment!: (string | undefined)[];
  client!: (string | undefined)[];
  signupPrefix!: (string | undefined)[];
  kyc!: (string | undefined)[];
  exFirst!: (string | undefined)[];
  exReason!: (string | undefined)[];
  shKey!: Int32Array;
  shCnt!: Uint32Array;
  /** Bottom-k of distinct prefix hashes / item hashes, ascending, EMPTY-padded. */
  pfxBot!: Uint32Array;
  itemBot!: Uint32Array;
  pfxBits!: Uint32Array;
  itemBits!: Uint32Array;
  /** Hash of the user agent (last seen). */
  ua!: Uint32Array;
  /** Responses of at least `longFormTokens` output tokens. */
  longOut!: Uint32Array;
  private prev!: Int32Array;
  private next!: Int32Array;
  /** Slots the arrays have room for now (grows by doubling up to `capacity`). */
  allocated = 0;
  private head = -1;
  private tail = -1;
  used = 0;
  evicted = 0;

  constructor(readonly capacity: number) {
    this.allocate(Math.min(capacity, INITIAL_SLOTS));
  }

  /** (Re)allocates every array for `n` slots, keeping the contents of the slots in use. */
  private allocate(n: number): void {
    const grow = <T extends Uint32Array | Int32Array | Float64Array>(old: T | undefined, make: (len: number) => T, width: number, fill?: number): T => {
      const a = make(n * width);
      if (fill !== undefined) a.fill(fill);
      if (old) a.set(old.subarray(0, this.used * width));
      return a;
    };
    const growArray = <T>(old: T[] | undefined, width = 1): T[] => {
      const a = new Array<T>(n * width);
      if (old) for (let i = 0; i < this.used * width; i++) a[i] = old[i]!;
      return a;
    };
    const u32 = (len: number) => new Uint32Array(len);
    const i32 = (len: number) => new Int32Array(len);
    const f64 = (len: number) => new Float64Array(len);
    this.ids = growArray(this.ids);
    this.req = grow(this.req, u32, 1);
    this.reasoning = grow(this.reasoning, u32, 1);
    this.inTok = grow(this.inTok, f64, 1);
    this.outTok = grow(this.outTok, f64, 1);
    this.first = grow(this.first, f64, 1);
    this.last = grow(this.last, f64, 1);
    this.gapN = grow(this.gapN, u32, 1);
    this.gapMean = grow(this.gapMean, f64, 1);
    this.gapM2 = grow(this.gapM2, f64, 1);
    this.createdAt = grow(this.createdAt, f64, 1, NaN);
    this.hours = grow(this.hours, u32, HOURS);
    this.tKey = grow(this.tKey, i32, TEMPLATE_SLOTS, -1);
    this.tCnt = grow(this.tCnt, u32, TEMPLATE_SLOTS);
    this.pfx = growArray(this.pfx, PREFIX_SLOTS);
    this.pfxCnt = grow(this.pfxCnt, u32, PREFIX_SLOTS);
    this.org = growArray(this.org);
    this.payment = growArray(this.payment);
    this.client = growArray(this.client);
    this.signupPrefix = growArray(this.signupPrefix);
    this.kyc = growArray(this.kyc);
    this.exFirst = growArray(this.exFirst);
    this.exReason = growArray(this.exReason);
    this.shKey = grow(this.shKey, i32, SHAPE_SLOTS, -1);
    this.shCnt = grow(this.shCnt, u32, SHAPE_SLOTS);
    this.pfxBot = grow(this.pfxBot, u32, PFX_K, EMPTY);
    this.itemBot = grow(this.itemBot, u32, ITEM_K, EMPTY);
    this.pfxBits = grow(this.pfxBits, u32, BITMAP_WORDS);
    this.itemBits = grow(this.itemBits, u32, BITMAP_WORDS);
    this.ua = grow(this.ua, u32, 1);
    this.longOut = grow(this.longOut, u32, 1);
    this.prev = grow(this.prev, i32, 1, -1);
    this.next = grow(this.next, i32, 1, -1);
    this.allocated = n;
  }

  /** Slot of `id`, allocated (evicting the LRU account if full) when new; moves it to the LRU head. */
  slot(id: string): number {
    let s = this.index.get(id);
    if (s !== undefined) {
      if (s !== this.head) {
        this.unlink(s);
        this.pushHead(s);
      }
      return s;
    }
    if (this.used < this.capacity) {
      if (this.used === this.allocated) this.allocate(this.allocated >= LAST_DOUBLING ? this.capacity : Math.min(this.capacity, this.allocated * 2));
      s = this.used++;
    } else {
      s = this.tail;
      this.unlink(s);
      this.index.delete(this.ids[s]!);
      this.clear(s);
      this.evicted++;
    }
    this.ids[s] = id;
    this.index.set(id, s);
    this.pushHead(s);
    return s;
  }

  private clear(s: number): void {
    this.req[s] = 0;
    this.reasoning[s] = 0;
    this.inTok[s] = 0;
    this.outTok[s] = 0;
    this.first[s] = 0;
    this.last[s] = 0;
    this.gapN[s] = 0;
    this.gapMean[s] = 0;
    this.gapM2[s] = 0;
    this.createdAt[s] = NaN;
    this.hours.fill(0, s * HOURS, (s + 1) * HOURS);
    this.tKey.fill(-1, s * TEMPLATE_SLOTS, (s + 1) * TEMPLATE_SLOTS);
    this.tCnt.fill(0, s * TEMPLATE_SLOTS, (s + 1) * TEMPLATE_SLOTS);
    for (let i = 0; i < PREFIX_SLOTS; i++) {
      this.pfx[s * PREFIX_SLOTS + i] = undefined;
      this.pfxCnt[s * PREFIX_SLOTS + i] = 0;
    }
    this.org[s] = this.payment[s] = this.client[s] = this.signupPrefix[s] = this.kyc[s] = undefined;
    this.exFirst[s] = this.exReason[s] = undefined;
    this.shKey.fill(-1, s * SHAPE_SLOTS, (s + 1) * SHAPE_SLOTS);
    this.shCnt.fill(0, s * SHAPE_SLOTS, (s + 1) * SHAPE_SLOTS);
    this.pfxBot.fill(EMPTY, s * PFX_K, (s + 1) * PFX_K);
    this.itemBot.fill(EMPTY, s * ITEM_K, (s + 1) * ITEM_K);
    this.pfxBits.fill(0, s * BITMAP_WORDS, (s + 1) * BITMAP_WORDS);
    this.itemBits.fill(0, s * BITMAP_WORDS, (s + 1) * BITMAP_WORDS);
    this.ua[s] = 0;
    this.longOut[s] = 0;
  }

  private unlink(s: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[s] = this.next[s] = -1;
  }

  private pushHead(s: number): void {
    this.prev[s] = -1;
    this.next[s] = this.head;
    if (this.head >= 0) this.prev[this.head] = s;
    this.head = s;
    if (this.tail < 0) this.tail = s;
  }

  /** Misra–Gries update of one band key for slot s. */
  addTemplateKey(s: number, key: number): void {
    const base = s * TEMPLATE_SLOTS;
    let empty = -1;
    for (let i = base; i < base + TEMPLATE_SLOTS; i++) {
      if (this.tKey[i] === key) {
        this.tCnt[i]++;
        return;
      }
      if (empty < 0 && this.tCnt[i] === 0) empty = i;
    }
    if (empty >= 0) {
      this.tKey[empty] = key;
      this.tCnt[empty] = 1;
      return;
    }
    for (let i = base; i < base + TEMPLATE_SLOTS; i++) if (--this.tCnt[i] === 0) this.tKey[i] = -1;
  }

  addPrefix(s: number, prefix: string): void {
    const base = s * PREFIX_SLOTS;
    let empty = -1;
    for (let i = base; i < base + PREFIX_SLOTS; i++) {
      if (this.pfx[i] === prefix) {
        this.pfxCnt[i]++;
        return;
      }
      if (empty < 0 && this.pfxCnt[i] === 0) empty = i;
    }
    if (empty >= 0) {
      this.pfx[empty] = prefix;
      this.pfxCnt[empty] = 1;
      return;
    }
    for (let i = base; i < base + PREFIX_SLOTS; i++) if (--this.pfxCnt[i] === 0) this.pfx[i] = undefined;
  }

  /** Misra–Gries update of one structure key for slot s. */
  addShapeKey(s: number, key: number): void {
    const base = s * SHAPE_SLOTS;
    let empty = -1;
    for (let i = base; i < base + SHAPE_SLOTS; i++) {
      if (this.shKey[i] === key) {
        this.shCnt[i]++;
        return;
      }
      if (empty < 0 && this.shCnt[i] === 0) empty = i;
    }
    if (empty >= 0) {
      this.shKey[empty] = key;
      this.shCnt[empty] = 1;
      return;
    }
    for (let i = base; i < base + SHAPE_SLOTS; i++) if (--this.shCnt[i] === 0) this.shKey[i] = -1;
  }

  /** Bottom-k insert of a 32-bit hash (kept ascending, duplicates ignored) plus the linear-counting bit. */
  static addSample(bot: Uint32Array, bits: Uint32Array, s: number, k: number, h: number): void {
    const bit = h & (BITMAP_WORDS * 32 - 1);
    bits[s * BITMAP_WORDS + (bit >>> 5)] |= 1 << (bit & 31);
    const base = s * k;
    const end = base + k;
    if (h >= bot[end - 1]) return;
    let i = end - 1;
    while (i > base && bot[i - 1] > h) i--;
    if (i > base && bot[i - 1] === h) return;
    for (let j = end - 1; j > i; j--) bot[j] = bot[j - 1];
    bot[i] = h;
  }

  /** Linear-counting estimate of distinct values from slot s's bitmap (saturates near 600). */
  static distinct(bits: Uint32Array, s: number): number {
    const m = BITMAP_WORDS * 32;
    let ones = 0;
    for (let i = s * BITMAP_WORDS; i < (s + 1) * BITMAP_WORDS; i++) {
      let v = bits[i];
      v = v - ((v >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      ones += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
    }
    const zeros = m - ones;
    return zeros === 0 ? m * Math.log(m) : -m * Math.log(zeros / m);
  }

  /** Slots in use, most recently active first. */
  *slots(): Generator<number> {
    for (let s = this.head; s >= 0; s = this.next[s]) yield s;
  }

  /** Plain-data snapshot (typed arrays as base64, LRU order preserved). */
  toJSON(): Record<string, unknown> {
    const order = [...this.slots()].reverse(); // oldest first, so restoring re-creates the same LRU order
    const pick = <T>(arr: ArrayLike<T>, width = 1) => order.flatMap((s) => Array.from({ length: width }, (_, i) => arr[s * width + i]));
    const b64 = (a: Uint32Array | Float64Array | Int32Array, width = 1) => {
      const C = a.constructor as { new (n: number): typeof a };
      const out = new C(order.length * width);
      order.forEach((s, j) => out.set(a.subarray(s * width, (s + 1) * width), j * width));
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64');
    };
    return {
      capacity: this.capacity,
      evicted: this.evicted,
      ids: pick(this.ids),
      req: b64(this.req), reasoning: b64(this.reasoning), inTok: b64(this.inTok), outTok: b64(this.outTok),
      first: b64(this.first), last: b64(this.last), gapN: b64(this.gapN), gapMean: b64(this.gapMean), gapM2: b64(this.gapM2),
      createdAt: b64(this.createdAt), hours: b64(this.hours, HOURS), tKey: b64(this.tKey, TEMPLATE_SLOTS), tCnt: b64(this.tCnt, TEMPLATE_SLOTS),
      pfx: pick(this.pfx, PREFIX_SLOTS), pfxCnt: b64(this.pfxCnt, PREFIX_SLOTS),
      org: pick(this.org), payment: pick(this.payment), client: pick(this.client), signupPrefix: pick(this.signupPrefix), kyc: pick(this.kyc),
      exFirst: pick(this.exFirst), exReason: pick(this.exReason),
      shKey: b64(this.shKey, SHAPE_SLOTS), shCnt: b64(this.shCnt, SHAPE_SLOTS), pfxBot: b64(this.pfxBot, PFX_K), itemBot: b64(this.itemBot, ITEM_K),
      pfxBits: b64(this.pfxBits, BITMAP_WORDS), itemBits: b64(this.itemBits, BITMAP_WORDS), ua: b64(this.ua), longOut: b64(this.longOut),
    };
  }

  static fromJSON(j: Record<string, any>, capacity: number): AccountTable {
    const t = new AccountTable(capacity);
    const ids: string[] = j.ids;
    const n = Math.min(ids.length, capacity);
    const skipN = ids.length - n; // keep the most recent when the new capacity is smaller
    const dec = <A extends Uint32Array | Float64Array | Int32Array>(C: { new (b: ArrayBuffer): A; BYTES_PER_ELEMENT: number }, s: string): A => {
      const buf = Buffer.from(s, 'base64');
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      return new C(ab as ArrayBuffer);
    };
    const fields: [keyof AccountTable, { new (b: ArrayBuffer): any; BYTES_PER_ELEMENT: number }, number][] = [
      ['req', Uint32Array, 1], ['reasoning', Uint32Array, 1], ['inTok', Float64Array, 1], ['outTok', Float64Array, 1],
      ['first', Float64Array, 1], ['last', Float64Array, 1], ['gapN', Uint32Array, 1], ['gapMean', Float64Array, 1],
      ['gapM2', Float64Array, 1], ['createdAt', Float64Array, 1], ['hours', Uint32Array, HOURS],
      ['tKey', Int32Array, TEMPLATE_SLOTS], ['tCnt', Uint32Array, TEMPLATE_SLOTS], ['pfxCnt', Uint32Array, PREFIX_SLOTS],
      ['shKey', Int32Array, SHAPE_SLOTS], ['shCnt', Uint32Array, SHAPE_SLOTS], ['pfxBot', Uint32Array, PFX_K], ['itemBot', Uint32Array, ITEM_K],
      ['pfxBits', Uint32Array, BITMAP_WORDS], ['itemBits', Uint32Array, BITMAP_WORDS], ['ua', Uint32Array, 1], ['longOut', Uint32Array, 1],
    ];
    const decoded = fields.map(([k, C, w]) => [k, dec(C, j[k as string]), w] as const);
    for (let i = skipN; i < ids.length; i++) {
      const s = t.slot(ids[i]);
      for (const [k, src, w] of decoded) (t[k] as any).set(src.subarray(i * w, (i + 1) * w), s * w);
      for (let p = 0; p < PREFIX_SLOTS; p++) t.pfx[s * PREFIX_SLOTS + p] = j.pfx[i * PREFIX_SLOTS + p] ?? undefined;
      for (const k of ['org', 'payment', 'client', 'signupPrefix', 'kyc', 'exFirst', 'exReason'] as const) t[k][s] = j[k][i] ?? undefined;
    }
    t.evicted = j.evicted ?? 0;
    return t;
  }
}
