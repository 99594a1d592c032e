import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'base64',
  description: 'the request base64-encoded, with an instruction to decode and answer',
  apply: (seed) => encodedRequest(['base64'], seed.text),
};
