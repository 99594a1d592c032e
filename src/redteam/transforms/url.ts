import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'url',
  description: 'the request with every byte URL percent-encoded',
  apply: (seed) => encodedRequest(['url'], seed.text),
};
