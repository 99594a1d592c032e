/** Seeded PRNG (mulberry32) and the per-(run seed, transform, seed id) stream, so that one row never depends on another. */
import { createHash } from 'node:crypto';
import { mulberry32 as seededUniform } from '../core/random.ts';
import type { Rng } from './types.ts';

/** The red-team `Rng` (next, int, pick) over core's seeded mulberry32 generator. */
export function mulberry32(seed: number): Rng {
  const next = seededUniform(seed);
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('rng.pick: empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/** The RNG for one (run seed, transform, seed) cell: adding a transform or a seed does not change any other row. */
export function rngFor(runSeed: number, transform: string, seedId: string): Rng {
  const h = createHash('sha256').update(`${runSeed}\0${transform}\0${seedId}`).digest();
  return mulberry32(h.readUInt32LE(0));
}
