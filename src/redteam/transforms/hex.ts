import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'hex',
  description: 'the request as hex-encoded UTF-8 bytes',
  apply: (seed) => encodedRequest(['hex'], seed.text),
};
