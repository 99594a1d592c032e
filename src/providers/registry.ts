/**
 * The provider registry: every provider type the gateway can build, one line each. The config schema's `providers:`
 * entries and the catalogue's factory are both derived from this list, so adding a provider type is its folder
 * (`<type>/config.ts`, `dialect.ts`, `provider.ts`: see README.md) plus one line here.
 */
import { z } from 'zod';
import { anthropicProviderType } from './anthropic/provider.ts';
import { openaiProviderType } from './openai/provider.ts';
import { simulatorProviderType } from './simulator/provider.ts';
import type { Provider } from './types.ts';

export const PROVIDER_TYPES = [
  simulatorProviderType,
  openaiProviderType,
  anthropicProviderType,
] as const;

type ConfigSchemas<T extends readonly { configSchema: unknown }[]> = { -readonly [K in keyof T]: T[K]['configSchema'] };

/** One `providers:` entry: a union over the registered types, told apart by `type`. */
export const providerSchema = z.discriminatedUnion('type', PROVIDER_TYPES.map((t) => t.configSchema) as unknown as ConfigSchemas<typeof PROVIDER_TYPES>);
export type ProviderConfig = z.infer<typeof providerSchema>;

const BY_TYPE: ReadonlyMap<string, (typeof PROVIDER_TYPES)[number]> = new Map(PROVIDER_TYPES.map((t) => [t.type, t]));

/** Builds the provider `name` from its validated config entry. */
export function createProvider(name: string, config: ProviderConfig, env: NodeJS.ProcessEnv): Provider {
  const t = BY_TYPE.get(config.type);
  // Unreachable for a config that passed providerSchema, which accepts registered types only.
  if (!t) throw new Error(`unknown provider type '${config.type}'`);
  return (t.create as (name: string, config: ProviderConfig, env: NodeJS.ProcessEnv) => Provider)(name, config, env);
}
