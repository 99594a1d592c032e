import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'rot13',
  description: 'the request in ROT13',
  apply: (seed) => encodedRequest(['rot13'], seed.text),
};
