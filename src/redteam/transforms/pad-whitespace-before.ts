import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** Whitespace long enough to push the request past any head-only window (tens of kilobytes). */
export const transform: Transform = {
  name: 'pad-whitespace-before',
  description: '20–40k characters of spaces and newlines before the request',
  apply: (seed, rng) => {
    const n = rng.int(20_000, 40_000);
    return userTurn(' '.repeat(n - Math.floor(n / 80)) + '\n'.repeat(Math.floor(n / 80)) + seed.text);
  },
};
