import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

export const LEET: Record<string, readonly string[]> = {
  a: ['4', '@'],
  b: ['8'],
  e: ['3'],
  g: ['9'],
  i: ['1', '!'],
  l: ['1', '|'],
  o: ['0'],
  s: ['5', '$'],
  t: ['7', '+'],
  z: ['2'],
};

export const transform: Transform = {
  name: 'leetspeak',
  description: 'about 70% of a/b/e/g/i/l/o/s/t/z replaced by digits and symbols (l33t)',
  apply: (seed, rng) => {
    let out = '';
    for (const ch of seed.text) {
      const alts = LEET[ch.toLowerCase()];
      out += alts && rng.next() < 0.7 ? rng.pick(alts) : ch;
    }
    return userTurn(out);
  },
};
