import { prose } from '../material.ts';
import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

export const transform: Transform = {
  name: 'pad-prose-before',
  description: 'harmless prose (1–20k characters) before the request, to dilute its score',
  apply: (seed, rng) => userTurn(`${prose(rng, rng.pick([1_000, 4_000, 20_000]))}\n\n${seed.text}`),
};
