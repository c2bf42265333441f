// Classification metrics shared by the methods: accuracy, per-class precision/recall/F1, their macro and
// support-weighted averages, and the confusion matrix (rows: true class, columns: predicted class).
// A class that is never predicted has precision 0 (scikit-learn's zero_division=0 convention).

export interface ClassificationReport {
  accuracy: number;
  precision: { macro: number; weighted: number; perClass: number[] };
  recall: { macro: number; weighted: number; perClass: number[] };
  f1: { macro: number; weighted: number; perClass: number[] };
  /** confusion[t][p]: samples of true class t predicted as p. */
  confusion: number[][];
  support: number[];
  n: number;
}

/** Index of the largest logit in each row of (N, C) scores. */
export function argmaxRows(scores: ArrayLike<number>, N: number, C: number): Int32Array {
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (scores[n * C + c] > scores[n * C + best]) best = c;
    out[n] = best;
  }
  return out;
}

export function classificationReport(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classes: number,
): ClassificationReport {
  if (yTrue.length !== yPred.length)
    throw new Error(`yPred has ${yPred.length} labels, yTrue has ${yTrue.length}`);
  const n = yTrue.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < n; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    if (!(t >= 0 && t < classes && p >= 0 && p < classes))
      throw new Error(`label out of range at row ${i}: true ${t}, predicted ${p}`);
    confusion[t][p]++;
  }
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = Array.from({ length: classes }, (_, c) => confusion.reduce((a, row) => a + row[c], 0));
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  let correct = 0;
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c][c];
    correct += tp;
    const p = predicted[c] > 0 ? tp / predicted[c] : 0;
    const r = support[c] > 0 ? tp / support[c] : 0;
    precision.push(p);
    recall.push(r);
    f1.push(p + r > 0 ? (2 * p * r) / (p + r) : 0);
  }
  const macro = (v: number[]) => v.reduce((a, b) => a + b, 0) / classes;
  const weighted = (v: number[]) => (n > 0 ? v.reduce((a, x, c) => a + x * support[c], 0) / n : 0);
  return {
    accuracy: n > 0 ? correct / n : 0,
    precision: { macro: macro(precision), weighted: weighted(precision), perClass: precision },
    recall: { macro: macro(recall), weighted: weighted(recall), perClass: recall },
    f1: { macro: macro(f1), weighted: weighted(f1), perClass: f1 },
    confusion,
    support,
    n,
  };
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const v = values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v) };
}

/** "0.8234 ± 0.0121" with the given number of decimals. */
export function formatMeanStd(values: readonly number[], digits = 4): string {
  const { mean, std } = meanStd(values);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}
