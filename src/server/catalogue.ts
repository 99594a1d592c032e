/**
 * The compiled, immutable runtime view of the config: models by public name, provider instances, attempt
 * plans. Built once per (re)load, never per request; swapping it is one pointer assignment.
 */
import type { GatewayConfig, ModelConfig } from '../config/schema.ts';
import { createProvider } from '../providers/registry.ts';
import type { Provider } from '../providers/types.ts';

export interface CatalogueModel {
  readonly config: ModelConfig;
  readonly provider: Provider;
  /** This model then its fallbacks, capped by routing.maxAttempts. */
  readonly plan: readonly CatalogueModel[];
  readonly inputPricePerToken: number;
  readonly outputPricePerToken: number;
}

export interface Catalogue {
  readonly config: GatewayConfig;
  readonly models: ReadonlyMap<string, CatalogueModel>;
  /** Pre-serialised GET /v1/models body. */
  readonly modelsListBody: string;
  readonly providers: ReadonlyMap<string, Provider>;
}

export { createProvider };

/** A model's fallbacks as they are attempted: those in the catalogue, capped by routing.maxAttempts. */
export function attemptedFallbacks(config: GatewayConfig, model: string): string[] {
  const m = config.models.find((x) => x.name === model);
  if (!m) return [];
  const known = new Set(config.models.map((x) => x.name));
  return m.fallbacks.filter((n) => known.has(n)).slice(0, Math.max(0, config.routing.maxAttempts - 1));
}

/**
 * Builds a catalogue, reusing provider instances (and their connection pools) from `previous` whose config
 * did not change. Returns the providers that are no longer used so the caller can close them after draining.
 */
export function buildCatalogue(config: GatewayConfig, env: NodeJS.ProcessEnv, previous?: Catalogue): { catalogue: Catalogue; retired: Provider[] } {
  const providers = new Map<string, Provider>();
  const retired: Provider[] = [];
  for (const [name, p] of Object.entries(config.providers)) {
    const old = previous?.providers.get(name);
    const same = old && previous && JSON.stringify(previous.config.providers[name]) === JSON.stringify(p);
    providers.set(name, same ? old : createProvider(name, p, env));
  }
  if (previous) for (const [name, p] of previous.providers) if (providers.get(name) !== p) retired.push(p);

  const models = new Map<string, CatalogueModel>();
  for (const m of config.models) {
    models.set(m.name, {
      config: m,
      provider: providers.get(m.provider)!,
      plan: [],
      inputPricePerToken: m.pricing.inputPerMTok / 1e6,
      outputPricePerToken: m.pricing.outputPerMTok / 1e6,
    });
  }
  for (const m of config.models) {
    const names = [m.name, ...attemptedFallbacks(config, m.name)];
    (models.get(m.name) as unknown as { plan: CatalogueModel[] }).plan = names.map((n) => models.get(n)!);
  }
  const created = Math.floor(Date.now() / 1000);
  const modelsListBody = JSON.stringify({
    object: 'list',
    data: config.models.filter((m) => !m.hidden).map((m) => ({ id: m.name, object: 'model', created, owned_by: 'gatehouse', display_name: m.description ?? m.name, type: 'model', created_at: new Date(created * 1000).toISOString() })),
    has_more: false,
    first_id: config.models[0]?.name ?? null,
    last_id: config.models[config.models.length - 1]?.name ?? null,
  });
  return { catalogue: { config, models, modelsListBody, providers }, retired };
}
