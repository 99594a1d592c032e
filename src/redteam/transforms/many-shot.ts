import { COMPLIANT_ANSWERS } from '../material.ts';
import type { Message, Transform } from '../types.ts';

/**
 * Many-shot: a long faux dialogue in which the assistant complied with request after request, then the real one.
 * The demonstration questions are other seeds of the same label (harmful for harmful seeds, benign for benign), so
 * the benign rows measure the form of the attack, not harmful shots.
 */
export const transform: Transform = {
  name: 'many-shot',
  description: '16–32 faux user/assistant exchanges of compliance (questions from the same seed set), then the request',
  apply: (seed, rng, ctx) => {
    const others = ctx.pool.filter((s) => s.id !== seed.id);
    const shots = others.length === 0 ? 0 : rng.int(16, 32);
    const messages: Message[] = [];
    for (let i = 0; i < shots; i++) {
      messages.push({ role: 'user', content: rng.pick(others).text });
      messages.push({ role: 'assistant', content: rng.pick(COMPLIANT_ANSWERS) });
    }
    messages.push({ role: 'user', content: seed.text });
    return { messages };
  },
};
