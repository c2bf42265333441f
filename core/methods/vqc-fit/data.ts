// Small seeded 2-D classification sets for the variational-circuit fit (the classic re-uploading
// benchmarks): concentric circles, two moons, XOR quadrants and two spirals. Features in [−1, 1].
import { Rng } from '../../util/rng';

export const TOY_DATASETS = ['circles', 'moons', 'xor', 'spirals'] as const;
export type ToyDataset = (typeof TOY_DATASETS)[number];

export interface ToySet {
  x: Float64Array; // (N, 2)
  y: Int32Array; // (N) labels in {0, 1}
  n: number;
}

export function makeToyDataset(name: ToyDataset, n: number, noise: number, seed: number): ToySet {
  const rng = new Rng(seed);
  const x = new Float64Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    let a = 0;
    let b = 0;
    switch (name) {
      case 'circles': {
        const r = label === 0 ? 0.35 : 0.8;
        const t = 2 * Math.PI * rng.uniform();
        a = r * Math.cos(t);
        b = r * Math.sin(t);
        break;
      }
      case 'moons': {
        const t = Math.PI * rng.uniform();
        a = label === 0 ? Math.cos(t) - 0.5 : 0.5 - Math.cos(t);
        b = label === 0 ? Math.sin(t) - 0.25 : 0.25 - Math.sin(t);
        a *= 0.65;
        b *= 0.9;
        break;
      }
      case 'xor': {
        a = 2 * rng.uniform() - 1;
        b = 2 * rng.uniform() - 1;
        y[i] = a * b > 0 ? 0 : 1;
        break;
      }
      case 'spirals': {
        const t = 0.25 + 2.75 * rng.uniform();
        const r = t / 3;
        const phase = label === 0 ? 0 : Math.PI;
        a = r * Math.cos(2 * t + phase);
        b = r * Math.sin(2 * t + phase);
        break;
      }
    }
    x[2 * i] = Math.max(-1, Math.min(1, a + noise * rng.normal()));
    x[2 * i + 1] = Math.max(-1, Math.min(1, b + noise * rng.normal()));
    if (name !== 'xor') y[i] = label;
  }
  return { x, y, n };
}

/** A seeded shuffle split into train and test. */
export function splitToy(set: ToySet, testFraction: number, seed: number): { train: ToySet; test: ToySet } {
  const idx = Array.from({ length: set.n }, (_, i) => i);
  const rng = new Rng(seed ^ 0x5bd1e995);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const nTest = Math.max(1, Math.round(set.n * testFraction));
  const take = (ids: number[]): ToySet => {
    const x = new Float64Array(2 * ids.length);
    const y = new Int32Array(ids.length);
    ids.forEach((k, i) => {
      x[2 * i] = set.x[2 * k];
      x[2 * i + 1] = set.x[2 * k + 1];
      y[i] = set.y[k];
    });
    return { x, y, n: ids.length };
  };
  return { test: take(idx.slice(0, nTest)), train: take(idx.slice(nTest)) };
}
