import { prose } from '../material.ts';
import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** The request as one paragraph in the middle of a long harmless document. */
export const transform: Transform = {
  name: 'pad-prose-around',
  description: 'the request in the middle of 20k characters of harmless prose on each side',
  apply: (seed, rng) => userTurn(`${prose(rng, 20_000)}\n\n${seed.text}\n\n${prose(rng, 20_000)}`),
};
