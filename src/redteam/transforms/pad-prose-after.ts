import { prose } from '../material.ts';
import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

export const transform: Transform = {
  name: 'pad-prose-after',
  description: 'harmless prose (1–20k characters) after the request, to dilute its score',
  apply: (seed, rng) => userTurn(`${seed.text}\n\n${prose(rng, rng.pick([1_000, 4_000, 20_000]))}`),
};
