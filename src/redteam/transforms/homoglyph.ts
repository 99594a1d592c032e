import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** Latin letters and the Cyrillic / Greek letters that look the same in most fonts. */
export const HOMOGLYPHS: Record<string, readonly string[]> = {
  a: ['\u0430', '\u03b1'],
  c: ['\u0441'],
  e: ['\u0435', '\u03b5'],
  i: ['\u0456', '\u03b9'],
  j: ['\u0458'],
  o: ['\u043e', '\u03bf'],
  p: ['\u0440', '\u03c1'],
  s: ['\u0455'],
  x: ['\u0445', '\u03c7'],
  y: ['\u0443'],
  A: ['\u0410', '\u0391'],
  B: ['\u0412', '\u0392'],
  C: ['\u0421'],
  E: ['\u0415', '\u0395'],
  H: ['\u041d', '\u0397'],
  K: ['\u041a', '\u039a'],
  M: ['\u041c', '\u039c'],
  O: ['\u041e', '\u039f'],
  P: ['\u0420', '\u03a1'],
  T: ['\u0422', '\u03a4'],
  X: ['\u0425', '\u03a7'],
};

export const transform: Transform = {
  name: 'homoglyph',
  description: 'about 60% of substitutable Latin letters replaced by Cyrillic/Greek lookalikes',
  apply: (seed, rng) => {
    let out = '';
    for (const ch of seed.text) {
      const alts = HOMOGLYPHS[ch];
      out += alts && rng.next() < 0.6 ? rng.pick(alts) : ch;
    }
    return userTurn(out);
  },
};
