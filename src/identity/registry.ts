/**
 * KeyRegistry: the request hot path's view of identity. All keys live in one in-memory Map from secret hash
 * to a pre-built, frozen lookup result, so `lookup` costs one SHA-256 and one Map.get and allocates nothing
 * else — no store I/O per request. The map is rebuilt from the store and swapped atomically when the
 * 'identity' topic changes (ChangeWatcher), so a revocation on any replica takes effect everywhere within
 * one notification (PostgreSQL NOTIFY: milliseconds; otherwise one poll interval, 250 ms by default).
 */
import type { ChangeWatcher } from '../store/changes.ts';
import type { KeyChanges, KeyEntry } from './keys.ts';
import { IDENTITY_TOPIC } from './keys.ts';
import { hashSecret } from './secrets.ts';

import type { KeyLookupResult } from '../core/types.ts';
export type { KeyLookupResult };

const MISSING: KeyLookupResult = Object.freeze({ ok: false, reason: 'missing' });
const UNKNOWN: KeyLookupResult = Object.freeze({ ok: false, reason: 'unknown' });
const REVOKED: KeyLookupResult = Object.freeze({ ok: false, reason: 'revoked' });

/** Longer values cannot be our keys; refusing them before hashing bounds the work an attacker can cause. */
const MAX_CREDENTIAL_LENGTH = 512;

export interface KeySource {
  /** Every key when sinceRev is null, else those changed after sinceRev; with the newest revision seen. */
  loadEntries(sinceRev: number | null): Promise<KeyChanges>;
}

export interface KeyRegistryOptions {
  onError?: (err: Error) => void;
  /** Called after each successful (re)load with the number of keys. */
  onLoad?: (info: { keys: number; full: boolean; ms: number }) => void;
}

export class KeyRegistry {
  private byHash = new Map<string, KeyLookupResult>();
  /** Keys from config (identity.keys); store keys win on a clash so a store revocation is never masked. */
  private fromConfig = new Map<string, KeyLookupResult>();
  private loadedAt = 0;
  /** Highest key revision applied; null until the first full load. */
  private rev: number | null = null;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;

  constructor(
    private readonly source: KeySource,
    private readonly opts: KeyRegistryOptions = {},
  ) {}

  /** Builds a registry and loads it once. */
  static async load(source: KeySource, opts?: KeyRegistryOptions): Promise<KeyRegistry> {
    const registry = new KeyRegistry(source, opts);
    await registry.reload();
    return registry;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Epoch ms of the last successful load (0 before the first). */
  get lastLoadedAt(): number {
    return this.loadedAt;
  }

  /**
   * `value` is an Authorization header value (`Bearer gh_…`), an x-api-key value, or the bare key.
   * Never throws; never logs.
   */
  lookup(value: string | undefined): KeyLookupResult {
    if (value === undefined) return MISSING;
    let key = value;
    if (key.length > 7 && (key.charCodeAt(0) | 0x20) === 0x62 /* b */ && key.slice(0, 7).toLowerCase() === 'bearer ') key = key.slice(7);
    if (key.charCodeAt(0) <= 0x20 || key.charCodeAt(key.length - 1) <= 0x20) key = key.trim();
    if (key.length === 0) return MISSING;
    if (key.length > MAX_CREDENTIAL_LENGTH) return UNKNOWN;
    const hash = hashSecret(key);
    return this.byHash.get(hash) ?? this.fromConfig.get(hash) ?? UNKNOWN;
  }

  /** Replaces the keys that come from config (call on start and on every config reload). */
  setConfigKeys(entries: Iterable<KeyEntry>): void {
    this.fromConfig = toLookupMap(entries);
  }

  /** Replaces every entry at once (one pointer swap: lookups see the old or the new set, never a mix). */
  replaceAll(entries: Iterable<KeyEntry>): void {
    this.byHash = toLookupMap(entries);
    this.loadedAt = Date.now();
  }

  /** Revision of the newest key change applied (null before the first load). */
  get revision(): number | null {
    return this.rev;
  }

  /**
   * Brings the registry up to date; concurrent calls coalesce. The first call (or `{full: true}`) loads every
   * key and swaps the map; later calls load only keys changed since the last revision applied and update the
   * live map entry by entry (each Map.set is atomic for lookups, and keys are never deleted, only revoked).
   * On failure the keys already loaded keep serving.
   */
  reload(opts: { full?: boolean } = {}): Promise<void> {
    if (opts.full) this.rev = null;
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          const started = performance.now();
          const full = this.rev === null;
          const changes = await this.source.loadEntries(this.rev);
          if (full) this.replaceAll(changes.entries);
          else {
            for (const e of changes.entries) this.byHash.set(e.hash, toLookupResult(e));
            this.loadedAt = Date.now();
          }
          this.rev = changes.rev;
          this.opts.onLoad?.({ keys: changes.entries.length, full, ms: performance.now() - started });
        } while (this.reloadAgain);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** Reloads whenever the 'identity' topic changes. Returns a function that detaches. */
  follow(watcher: ChangeWatcher): () => void {
    return watcher.on((topic) => {
      if (topic !== IDENTITY_TOPIC) return;
      this.reload().catch((err: Error) => this.opts.onError?.(err));
    });
  }
}

function toLookupResult(e: KeyEntry): KeyLookupResult {
  return e.revoked ? REVOKED : Object.freeze({ ok: true as const, principal: e.principal });
}

function toLookupMap(entries: Iterable<KeyEntry>): Map<string, KeyLookupResult> {
  const map = new Map<string, KeyLookupResult>();
  for (const e of entries) map.set(e.hash, toLookupResult(e));
  return map;
}
