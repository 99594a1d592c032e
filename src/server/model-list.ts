/**
 * `GET /v1/models` per caller: the non-hidden models whose access decision for the caller's principal is not a
 * refusal. Built from the catalogue's pre-serialised entries and cached per principal object (the key registry
 * hands out one frozen principal per key until the key changes), per catalogue and per access version; a cached
 * list is also recomputed after a second, since directives can start or end on a schedule.
 */
import type { ModelAccess } from '../core/gates.ts';
import type { Principal } from '../core/types.ts';
import { modelsList, type Catalogue, type CatalogueModel } from './catalogue.ts';

/** How long a cached list may be reused while nothing else changed (scheduled directives take effect by time). */
const REUSE_MS = 1_000;

interface Cached {
  catalogue: Catalogue;
  version: unknown;
  at: number;
  allowed: ReadonlySet<string>;
  body: string;
}

export class ModelLists {
  private cache = new WeakMap<Principal, Cached>();

  constructor(private readonly access: ModelAccess | null) {}

  private entry(principal: Principal, catalogue: Catalogue, now: number): Cached {
    const version = this.access?.version();
    const hit = this.cache.get(principal);
    if (hit && hit.catalogue === catalogue && hit.version === version && now - hit.at < REUSE_MS && now >= hit.at) return hit;
    const listed: CatalogueModel[] = [];
    for (const m of catalogue.models.values()) {
      if (m.config.hidden) continue;
      if (this.access && !this.access.allows(principal, m.config.name, now)) continue;
      listed.push(m);
    }
    const fresh: Cached = { catalogue, version, at: now, allowed: new Set(listed.map((m) => m.config.name)), body: modelsList(listed) };
    this.cache.set(principal, fresh);
    return fresh;
  }

  /** The list body for this principal. */
  bodyFor(principal: Principal, catalogue: Catalogue, now: number): string {
    return this.entry(principal, catalogue, now).body;
  }

  /** The model when this principal may see it, else undefined (a 404, like a model that does not exist). */
  modelFor(principal: Principal, catalogue: Catalogue, id: string, now: number): CatalogueModel | undefined {
    return this.entry(principal, catalogue, now).allowed.has(id) ? catalogue.models.get(id) : undefined;
  }
}
