// The screening design over the head's factors (qubits, depth, learning rate, re-uploading steps,
// connectivity) and its main-effects table: mean accuracy at each level of each factor.
//
// Designs: `full` is every combination. `fractional` is the orthogonal array OA(L², L+1, L, 2) for the
// smallest prime L ≥ the largest level count with L + 1 ≥ the number of factors: run (a, b) gives factor j
// the column value a (j = 0) or (b + (j−1)·a) mod L (j ≥ 1). Any two columns take every pair of values
// equally often, so each factor's main effect is estimated free of every other factor's main effect. A
// factor with fewer levels than L maps the column value v to level ⌊v·levels/L⌋ (then balance is approximate).
import type { SweepConfig, SweepFactor } from './schema';
import { SWEEP_FACTORS } from './schema';

export type SweepPoint = Partial<Record<SweepFactor, number>>;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let k = 2; k * k <= n; k++) if (n % k === 0) return false;
  return true;
}

/** The factors that have levels, in a fixed order, with their levels. */
export function activeFactors(f: SweepConfig['factors']): [SweepFactor, number[]][] {
  return SWEEP_FACTORS.filter((k) => f[k] && f[k]!.length > 0).map((k) => [k, [...new Set(f[k]!)]]);
}

export function fullFactorial(factors: [SweepFactor, number[]][]): SweepPoint[] {
  let points: SweepPoint[] = [{}];
  for (const [name, levels] of factors)
    points = points.flatMap((p) => levels.map((v) => ({ ...p, [name]: v })));
  return points;
}

export function orthogonalArray(factors: [SweepFactor, number[]][]): SweepPoint[] {
  const k = factors.length;
  const maxLevels = Math.max(...factors.map(([, l]) => l.length));
  let L = Math.max(2, maxLevels, k - 1);
  while (!isPrime(L)) L++;
  const points: SweepPoint[] = [];
  for (let a = 0; a < L; a++)
    for (let b = 0; b < L; b++) {
      const p: SweepPoint = {};
      factors.forEach(([name, levels], j) => {
        const v = j === 0 ? a : (b + (j - 1) * a) % L;
        p[name] = levels[Math.floor((v * levels.length) / L)];
      });
      points.push(p);
    }
  return points;
}

export function designPoints(s: SweepConfig): SweepPoint[] {
  const factors = activeFactors(s.factors);
  // one factor: the fraction would only repeat its levels
  const pts = s.design === 'full' || factors.length === 1 ? fullFactorial(factors) : orthogonalArray(factors);
  if (pts.length > s.maxPoints)
    throw new Error(
      `sweep.maxPoints: the ${s.design} design has ${pts.length} points, above maxPoints ${s.maxPoints}`,
    );
  return pts;
}

export interface MainEffectRow {
  factor: SweepFactor;
  level: number;
  mean: number;
  /** Points at this level. */
  n: number;
}

/** Mean of `value` over the points at each level of each factor, levels in ascending order. */
export function mainEffects(results: { point: SweepPoint; value: number }[]): MainEffectRow[] {
  const rows: MainEffectRow[] = [];
  for (const factor of SWEEP_FACTORS) {
    const byLevel = new Map<number, number[]>();
    for (const r of results) {
      const v = r.point[factor];
      if (v === undefined) continue;
      if (!byLevel.has(v)) byLevel.set(v, []);
      byLevel.get(v)!.push(r.value);
    }
    for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
      const vs = byLevel.get(level)!;
      rows.push({ factor, level, mean: vs.reduce((a, b) => a + b, 0) / vs.length, n: vs.length });
    }
  }
  return rows;
}

/** Range of the level means per factor (the size of its main effect). */
export function effectSizes(rows: MainEffectRow[]): { factor: SweepFactor; range: number }[] {
  const out: { factor: SweepFactor; range: number }[] = [];
  for (const factor of SWEEP_FACTORS) {
    const ms = rows.filter((r) => r.factor === factor).map((r) => r.mean);
    if (ms.length) out.push({ factor, range: Math.max(...ms) - Math.min(...ms) });
  }
  return out;
}
