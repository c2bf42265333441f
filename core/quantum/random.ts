// A small seeded PRNG for shots and noise trajectories: xoshiro128** 1.1 (Blackman & Vigna, 2018),
// state seeded from a 32-bit seed by SplitMix32. 32-bit integer arithmetic only (Math.imul, >>>),
// so the stream is bit-for-bit identical on every JavaScript engine and machine.

/** SplitMix32 step, used to expand a seed into the four xoshiro state words (never all zero). */
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

  /** `seed` is reduced to 32 bits (integers in [0, 2^32) are used as is). */
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

  /** The four state words, to save and later restore a stream exactly. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))
      throw new Error('state must be four unsigned 32-bit integers');
    if (state.every((w) => w === 0)) throw new Error('state must not be all zero');
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0) as [number, number, number, number];
  }

  /**
   * An independent child stream derived from this one's next outputs; used to give each batch row
   * or trajectory its own stream so results do not depend on evaluation order.
   */
  fork(): Rng {
    return new Rng(this.nextU32());
  }
}

export function createRng(seed: number): Rng {
  return new Rng(seed);
}
