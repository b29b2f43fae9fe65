/** A source of uniform random numbers in [0, 1). Injected so tests can be deterministic. */
export type RandomSource = () => number;

/** The default random source. */
export const systemRandom: RandomSource = () => Math.random();

/** A seeded PRNG (mulberry32) for reproducible tests and simulations. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random id of `length` base-36 characters (default 20, about 103 bits). */
export function randomId(random: RandomSource, length = 20): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ALPHABET[Math.floor(random() * 36)];
  return id;
}
