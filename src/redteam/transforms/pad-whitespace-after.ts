import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** The request first, then enough whitespace to push it out of any tail-only window. */
export const transform: Transform = {
  name: 'pad-whitespace-after',
  description: '20–40k characters of spaces and newlines after the request',
  apply: (seed, rng) => {
    const n = rng.int(20_000, 40_000);
    return userTurn(seed.text + '\n'.repeat(Math.floor(n / 80)) + ' '.repeat(n - Math.floor(n / 80)));
  },
};
