import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'reversed',
  description: 'the request written backwards',
  apply: (seed) => encodedRequest(['reversed'], seed.text),
};
