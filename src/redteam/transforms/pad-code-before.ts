import { code } from '../material.ts';
import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

export const transform: Transform = {
  name: 'pad-code-before',
  description: '40–60 lines of harmless code (a fenced block) before the request',
  apply: (seed, rng) => userTurn('```\n' + code(rng, rng.int(40, 60)) + '\n```\n\n' + seed.text),
};
