import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** The request in the middle of a huge turn: past any head window and before any tail window. */
export const transform: Transform = {
  name: 'pad-whitespace-around',
  description: 'the request in the middle of 20–40k characters of whitespace on each side',
  apply: (seed, rng) => {
    const ws = (n: number) => ' '.repeat(n - Math.floor(n / 80)) + '\n'.repeat(Math.floor(n / 80));
    return userTurn(ws(rng.int(20_000, 40_000)) + seed.text + ws(rng.int(20_000, 40_000)));
  },
};
