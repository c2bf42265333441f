// The one seeded PRNG of the lab, shared by the isomorphic layers (nn: initialisation, dropout, sampling;
// quantum: shots, noise trajectories). xoshiro128** 1.1 (Blackman & Vigna, 2018), state seeded from a
// 32-bit seed by SplitMix32. 32-bit integer arithmetic only (Math.imul, >>>) until the final scaling, so
// the stream is bit-for-bit identical on every JavaScript engine and machine.
//
// Two method families draw from the same xoshiro stream and are kept as they were written, because
// stored runs and tests pin their exact values:
// - uniform / int / normal / fillUniform / fillNormal (nn): one output per uniform (32-bit resolution),
//   normals by Box–Muller using both values of the pair.
// - nextFloat / nextInt / nextNormal / fork (quantum): 53-bit floats from two outputs, unbiased integers
//   by rejection, one normal per Box–Muller pair (no hidden spare, so getState/setState restore exactly).

/** Anything indexable that holds numbers (Float32Array, Float64Array, number[]). */
export interface NumberArray {
  readonly length: number;
  [index: number]: number;
}

/** SplitMix32 step, used to expand a seed into the four xoshiro state words. */
function splitMix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  // The second value of the last Box–Muller pair drawn by normal(); not part of getState().
  private spare = 0;
  private hasSpare = false;

  /** `seed` is reduced to 32 bits (integers in [0, 2^32) are used as is; fractions are truncated). */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    const sm = { s: Math.trunc(seed) | 0 };
    this.s0 = splitMix32(sm);
    this.s1 = splitMix32(sm);
    this.s2 = splitMix32(sm);
    this.s3 = splitMix32(sm);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit output as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  // ---- nn family: one output per draw ----

  /** Uniform in [0, 1) with 32 bits of resolution (one output). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [0, n) as floor(uniform() * n); bias below 2^-32 · n, fine for shuffles and batches. */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal deviate by Box–Muller; the pair's second value is returned by the next call. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = 1 - this.uniform(); // in (0, 1], keeps log finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * u2);
  }

  fillNormal(out: NumberArray, std = 1, mean = 0): void {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
  }

  fillUniform(out: NumberArray, lo: number, hi: number): void {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
  }

  // ---- quantum family: full-precision floats, unbiased integers, restorable state ----

  /** Uniform double in [0, 1) with 53 random bits (two outputs). */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), n ≤ 2^32, without modulo bias (rejection). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296)
      throw new Error(`nextInt: n must be in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** Standard normal deviate (Box–Muller, one of the pair; simple and reproducible). */
  nextNormal(): number {
    const u = 1 - this.nextFloat(); // (0, 1], so log is finite
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The four state words, to save and later restore a stream exactly (normal()'s spare is not included). */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Restores words from getState(); drops any pending normal() spare so the stream restarts cleanly. */
  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))
      throw new Error('state must be four unsigned 32-bit integers');
    if (state.every((w) => w === 0)) throw new Error('state must not be all zero');
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0) as [number, number, number, number];
    this.hasSpare = false;
  }

  /**
   * An independent child stream derived from this one's next output; used to give each batch row
   * or trajectory its own stream so results do not depend on evaluation order.
   */
  fork(): Rng {
    return new Rng(this.nextU32());
  }
}

export function createRng(seed: number): Rng {
  return new Rng(seed);
}
