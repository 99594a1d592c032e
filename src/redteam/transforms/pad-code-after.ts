import { code } from '../material.ts';
import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

export const transform: Transform = {
  name: 'pad-code-after',
  description: 'the request, then 40–60 lines of harmless code (a fenced block) as if it were context',
  apply: (seed, rng) => userTurn(seed.text + '\n\nHere is the code I am working with:\n```\n' + code(rng, rng.int(40, 60)) + '\n```'),
};
