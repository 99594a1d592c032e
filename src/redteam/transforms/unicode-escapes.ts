import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'unicode-escapes',
  description: 'every character as a \\u escape',
  apply: (seed) => encodedRequest(['unicode-escapes'], seed.text),
};
