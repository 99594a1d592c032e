import { Counter, type Registry } from 'prom-client';

export interface MeterMetrics {
  tokens: Counter<'model' | 'direction'>;
  cost: Counter<'model'>;
}

/** Token and cost counters, labelled by served model only (accounts would explode cardinality; use the usage API for those). */
export function registerMeterMetrics(registry: Registry): MeterMetrics {
  return {
    tokens: new Counter({ name: 'gatehouse_tokens_total', help: 'Tokens metered, by model and direction (input|output)', labelNames: ['model', 'direction'], registers: [registry] }),
    cost: new Counter({ name: 'gatehouse_cost_usd_total', help: 'Cost metered in USD, by model', labelNames: ['model'], registers: [registry] }),
  };
}
