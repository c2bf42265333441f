// The seeded PRNG lives in core/util/rng.ts (shared with nn); this path is kept for existing importers.
export { Rng, createRng } from '../util/rng';
