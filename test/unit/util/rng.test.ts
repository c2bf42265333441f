import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/util/rng';

// An independent reference in BigInt arithmetic (no Math.imul, no sign tricks), written from the
// published SplitMix32 and xoshiro128** definitions, to check the shared Rng bit for bit.
const M32 = (1n << 32n) - 1n;
const mul = (a: bigint, b: bigint): bigint => (a * b) & M32;
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M32;

class ReferenceXoshiro {
  s: bigint[];
  constructor(seed: number) {
    let x = BigInt.asUintN(32, BigInt(Math.trunc(seed)));
    this.s = [0, 1, 2, 3].map(() => {
      x = (x + 0x9e3779b9n) & M32;
      let z = x;
      z = mul(z ^ (z >> 16n), 0x85ebca6bn);
      z = mul(z ^ (z >> 13n), 0xc2b2ae35n);
      return z ^ (z >> 16n);
    });
  }
  next(): number {
    const s = this.s;
    const result = mul(rotl(mul(s[1], 5n), 7n), 9n);
    const t = (s[1] << 9n) & M32;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    return Number(result);
  }
}

const SEEDS = [0, 1, 42, 123456789, 0xffffffff, -1, -12345, 2 ** 32 + 5, 3.7, -2.5, 2 ** 53];

describe('shared Rng (core/util/rng)', () => {
  it('seeds through SplitMix32 and steps xoshiro128** exactly as the BigInt reference', () => {
    for (const seed of SEEDS) {
      const r = new Rng(seed);
      const ref = new ReferenceXoshiro(seed);
      for (let i = 0; i < 300; i++) expect(r.nextU32(), `seed ${seed}, output ${i}`).toBe(ref.next());
    }
  });

  it('nn family: uniform is one output / 2^32, int floors it, normal returns both Box–Muller values', () => {
    const r = new Rng(9);
    const ref = new ReferenceXoshiro(9);
    for (let i = 0; i < 20; i++) expect(r.uniform()).toBe(ref.next() / 2 ** 32);
    for (let n = 1; n < 400; n += 37) expect(r.int(n)).toBe(Math.floor((ref.next() / 2 ** 32) * n));
    for (let i = 0; i < 10; i++) {
      const u1 = 1 - ref.next() / 2 ** 32;
      const u2 = ref.next() / 2 ** 32;
      const rad = Math.sqrt(-2 * Math.log(u1));
      expect(r.normal()).toBe(rad * Math.cos(2 * Math.PI * u2));
      expect(r.normal()).toBe(rad * Math.sin(2 * Math.PI * u2));
    }
    const out = new Float64Array(5);
    const twin = new Rng(5);
    new Rng(5).fillUniform(out, -2, 3);
    for (let i = 0; i < 5; i++) expect(out[i]).toBe(-2 + 5 * twin.uniform());
    new Rng(5).fillNormal(out, 0.5, 1);
    const twin2 = new Rng(5);
    for (let i = 0; i < 5; i++) expect(out[i]).toBe(1 + 0.5 * twin2.normal());
  });

  it('quantum family: nextFloat takes 27+26 bits of two outputs, nextInt rejects the biased tail', () => {
    const r = new Rng(11);
    const ref = new ReferenceXoshiro(11);
    for (let i = 0; i < 20; i++) {
      const hi = ref.next() >>> 5;
      const lo = ref.next() >>> 6;
      expect(r.nextFloat()).toBe((hi * 2 ** 26 + lo) / 2 ** 53);
    }
    // n = 3·2^30 leaves a rejected tail of 2^30 values: a quarter of outputs are skipped
    const n = 3 * 2 ** 30;
    for (let i = 0; i < 50; i++) {
      let x = ref.next();
      while (x >= n) x = ref.next();
      expect(r.nextInt(n)).toBe(x);
    }
    expect(() => r.nextInt(0)).toThrow(/nextInt: n must be/);
    expect(() => r.nextInt(2.5)).toThrow(/nextInt: n must be/);
  });

  it('fork seeds a child from the next output; setState restores the stream and drops a pending spare', () => {
    const a = new Rng(3);
    const b = new Rng(3);
    const child = a.fork();
    const expected = new Rng(b.nextU32());
    for (let i = 0; i < 10; i++) expect(child.nextU32()).toBe(expected.nextU32());

    const r = new Rng(21);
    const saved = r.getState();
    const first = r.normal();
    r.normal(); // the spare of the first pair
    r.normal(); // leaves a spare pending
    r.setState(saved);
    expect(r.normal()).toBe(first);
  });

  it('rejects a seed that is not a finite number', () => {
    expect(() => new Rng(Number.NaN)).toThrow(/seed must be a finite number/);
    expect(() => new Rng(Infinity)).toThrow(/seed must be a finite number/);
  });
});
