import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'base64x2',
  description: 'the request base64-encoded twice',
  apply: (seed) => encodedRequest(['base64', 'base64'], seed.text),
};
