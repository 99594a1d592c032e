import { encodedRequest } from '../encoding-transform.ts';
import type { Transform } from '../types.ts';

export const transform: Transform = {
  name: 'html-entities',
  description: 'every character as an HTML numeric character reference',
  apply: (seed) => encodedRequest(['html-entities'], seed.text),
};
