import { encodedRequest } from '../encoding-transform.ts';
import { ENCODINGS, type Encoding } from '../encodings.ts';
import type { Transform } from '../types.ts';

/** Innermost layers may be any encoding; tag characters are left out because they would hide the outer layers. */
const LAYERS = ENCODINGS.filter((e) => e !== 'tag-chars');

export const transform: Transform = {
  name: 'encoding-chain',
  description: 'a random chain of 2–4 encodings (base64, hex, URL, ROT13, reversed, HTML entities, \\u escapes), named in the prompt',
  apply: (seed, rng) => {
    const depth = rng.int(2, 4);
    const chain: Encoding[] = [];
    while (chain.length < depth) {
      const e = rng.pick(LAYERS);
      // Two ROT13s or two reversals cancel out: never repeat either back to back.
      if ((e === 'rot13' || e === 'reversed') && chain.at(-1) === e) continue;
      chain.push(e);
    }
    return encodedRequest(chain, seed.text);
  },
};
