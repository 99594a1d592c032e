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
  /** Epoch seconds when this gateway first loaded the model (kept across reloads), the `created` of listings. */
  readonly created: number;
  /** This model as one pre-serialised `/v1/models` entry (OpenAI and Anthropic fields). */
  readonly listEntry: string;
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
  const now = Math.floor(Date.now() / 1000);
  for (const m of config.models) {
    const created = previous?.models.get(m.name)?.created ?? now;
    models.set(m.name, {
      config: m,
      provider: providers.get(m.provider)!,
      plan: [],
      inputPricePerToken: m.pricing.inputPerMTok / 1e6,
      outputPricePerToken: m.pricing.outputPerMTok / 1e6,
      created,
      listEntry: JSON.stringify(modelEntry(m, created)),
    });
  }
  for (const m of config.models) {
    const names = [m.name, ...attemptedFallbacks(config, m.name)];
    (models.get(m.name) as unknown as { plan: CatalogueModel[] }).plan = names.map((n) => models.get(n)!);
  }
  const modelsListBody = modelsList([...models.values()].filter((m) => !m.config.hidden));
  return { catalogue: { config, models, modelsListBody, providers }, retired };
}

/** One model as both SDKs read it: OpenAI's `{id, object, created, owned_by}`, Anthropic's `{id, type, display_name, created_at}`. */
export function modelEntry(m: ModelConfig, created: number): Record<string, unknown> {
  return { id: m.name, object: 'model', created, owned_by: 'gatehouse', display_name: m.description ?? m.name, type: 'model', created_at: new Date(created * 1000).toISOString() };
}

/** A `/v1/models` list body from pre-serialised entries (a join, no serialisation per request). */
export function modelsList(models: readonly CatalogueModel[]): string {
  const first = models[0]?.config.name ?? null;
  const last = models[models.length - 1]?.config.name ?? null;
  return `{"object":"list","data":[${models.map((m) => m.listEntry).join(',')}],"has_more":false,"first_id":${JSON.stringify(first)},"last_id":${JSON.stringify(last)}}`;
}
