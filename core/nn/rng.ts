// The seeded PRNG lives in core/util/rng.ts (shared with quantum); this path is kept for existing importers.
export { Rng } from '../util/rng';
