import type { Transform } from '../types.ts';
import { userTurn } from '../types.ts';

/** The reference row: the seed as it is, one user turn. */
export const transform: Transform = {
  name: 'identity',
  description: 'no transform: the seed as a single user turn (the reference row)',
  apply: (seed) => userTurn(seed.text),
};
