// The simple reference every text-classification comparison reports: a bag-of-words logistic regression on
// the same split. Words: lower-cased runs of letters, digits and apostrophes of each text's first `maxWords`
// words; vocabulary: words in at least `minDf` training texts (the `maxVocab` most frequent); features
// log(1 + count), each row scaled to unit length. Softmax regression with an L2 penalty, full-batch Adam; the
// penalty is chosen on validation, then test is read once. Pure TypeScript (no Node).
import { argmaxRows, classificationReport, type ClassificationReport } from './metrics';

export interface BowText {
  text: string;
  label: number;
}

export interface BowOptions {
  /** Words kept from the start of each text (the models' truncation); null keeps all. */
  maxWords: number | null;
  minDf?: number;
  maxVocab?: number;
  /** L2 penalties tried (mean loss + λ·‖W‖²); validation picks one. */
  l2?: readonly number[];
  /** Full-batch Adam steps per penalty. */
  steps?: number;
  /** What a "word" is, for the report (default: lower-cased words of the text). */
  unit?: string;
}

export interface BowResult {
  vocab: number;
  l2: number;
  valAcc: number;
  test: ClassificationReport;
  /** Predicted class of every test row. */
  predictions: Int32Array;
  seconds: number;
  maxWords: number | null;
  unit: string;
}

/** Sparse rows (CSR) of unit-length log-count features. */
interface Csr {
  n: number;
  offsets: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

export function bowWords(text: string, maxWords: number | null): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  return maxWords === null ? words : words.slice(0, maxWords);
}

function buildVocab(docs: string[][], minDf: number, maxVocab: number): Map<string, number> {
  const df = new Map<string, number>();
  for (const d of docs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const kept = [...df]
    .filter(([, n]) => n >= minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxVocab);
  return new Map(kept.map(([w], i) => [w, i]));
}

function featurise(docs: string[][], vocab: Map<string, number>): Csr {
  const offsets = new Int32Array(docs.length + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  docs.forEach((d, i) => {
    const counts = new Map<number, number>();
    for (const w of d) {
      const j = vocab.get(w);
      if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
    }
    const entries = [...counts].sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, c] of entries) norm += Math.log1p(c) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (const [j, c] of entries) {
      cols.push(j);
      vals.push(Math.log1p(c) / norm);
    }
    offsets[i + 1] = cols.length;
  });
  return { n: docs.length, offsets, cols: Int32Array.from(cols), vals: Float64Array.from(vals) };
}

/** Logits (n, C) = X·Wᵀ + b, W (C, V). */
function logitsOf(x: Csr, w: Float64Array, b: Float64Array, C: number, out: Float64Array): Float64Array {
  const V = w.length / C;
  for (let i = 0; i < x.n; i++)
    for (let c = 0; c < C; c++) {
      let s = b[c];
      for (let k = x.offsets[i]; k < x.offsets[i + 1]; k++) s += w[c * V + x.cols[k]] * x.vals[k];
      out[i * C + c] = s;
    }
  return out;
}

/** Mean cross-entropy of logits (n, C) against labels; with `grad`, writes softmax − onehot over n. */
function crossEntropy(
  logits: Float64Array,
  labels: Int32Array,
  C: number,
  grad: Float64Array | null,
): number {
  const n = labels.length;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]);
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c] - m);
    loss += Math.log(z) + m - logits[i * C + labels[i]];
    if (grad)
      for (let c = 0; c < C; c++)
        grad[i * C + c] = (Math.exp(logits[i * C + c] - m) / z - (c === labels[i] ? 1 : 0)) / n;
  }
  return loss / Math.max(1, n);
}

function train(x: Csr, y: Int32Array, C: number, V: number, l2: number, steps: number) {
  const w = new Float64Array(C * V);
  const b = new Float64Array(C);
  const params = [w, b];
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const gw = new Float64Array(C * V);
  const gb = new Float64Array(C);
  const logits = new Float64Array(x.n * C);
  const dl = new Float64Array(x.n * C);
  const lr = 0.1;
  for (let t = 1; t <= steps; t++) {
    logitsOf(x, w, b, C, logits);
    crossEntropy(logits, y, C, dl);
    for (let j = 0; j < w.length; j++) gw[j] = 2 * l2 * w[j];
    gb.fill(0);
    for (let i = 0; i < x.n; i++)
      for (let c = 0; c < C; c++) {
        const g = dl[i * C + c];
        gb[c] += g;
        for (let k = x.offsets[i]; k < x.offsets[i + 1]; k++) gw[c * V + x.cols[k]] += g * x.vals[k];
      }
    const grads = [gw, gb];
    const c1 = 1 - 0.9 ** t;
    const c2 = 1 - 0.999 ** t;
    params.forEach((p, q) => {
      const g = grads[q];
      for (let j = 0; j < p.length; j++) {
        m[q][j] = 0.9 * m[q][j] + 0.1 * g[j];
        v[q][j] = 0.999 * v[q][j] + 0.001 * g[j] * g[j];
        p[j] -= (lr * (m[q][j] / c1)) / (Math.sqrt(v[q][j] / c2) + 1e-8);
      }
    });
  }
  return { w, b };
}

const labelsOf = (items: readonly BowText[]) => Int32Array.from(items, (t) => t.label);

/**
 * Fits on train, picks the L2 penalty by validation accuracy (ties: lower validation loss), then reads the
 * test texts once through `test()` (a method's final evaluation).
 */
export function bagOfWordsReference(
  splits: { train: readonly BowText[]; validation: readonly BowText[] },
  test: () => readonly BowText[],
  C: number,
  o: BowOptions,
): BowResult {
  const t0 = performance.now();
  const words = (items: readonly BowText[]) => items.map((t) => bowWords(t.text, o.maxWords));
  const trainWords = words(splits.train);
  const vocab = buildVocab(trainWords, o.minDf ?? 2, o.maxVocab ?? 20_000);
  const V = Math.max(1, vocab.size);
  const xTrain = featurise(trainWords, vocab);
  const xVal = featurise(words(splits.validation), vocab);
  const yTrain = labelsOf(splits.train);
  const yVal = labelsOf(splits.validation);
  const valLogits = new Float64Array(xVal.n * C);
  let best: { l2: number; acc: number; loss: number; w: Float64Array; b: Float64Array } | null = null;
  for (const l2 of o.l2 ?? [1e-5, 1e-4, 1e-3]) {
    const { w, b } = train(xTrain, yTrain, C, V, l2, o.steps ?? 200);
    logitsOf(xVal, w, b, C, valLogits);
    const loss = crossEntropy(valLogits, yVal, C, null);
    const pred = argmaxRows(valLogits, xVal.n, C);
    let right = 0;
    for (let i = 0; i < xVal.n; i++) if (pred[i] === yVal[i]) right++;
    const acc = right / Math.max(1, xVal.n);
    if (!best || acc > best.acc || (acc === best.acc && loss < best.loss)) best = { l2, acc, loss, w, b };
  }
  const testItems = test();
  const xTest = featurise(words(testItems), vocab);
  const predictions = argmaxRows(
    logitsOf(xTest, best!.w, best!.b, C, new Float64Array(xTest.n * C)),
    xTest.n,
    C,
  );
  return {
    vocab: vocab.size,
    l2: best!.l2,
    valAcc: best!.acc,
    test: classificationReport(labelsOf(testItems), predictions, C),
    predictions,
    seconds: (performance.now() - t0) / 1000,
    maxWords: o.maxWords,
    unit:
      o.unit ??
      (o.maxWords === null ? 'every word of each text' : `the first ${o.maxWords} words of each text`),
  };
}

/** The reference in one sentence for a setup text. */
export function describeBow(r: BowResult): string {
  return `Bag-of-words reference: logistic regression on log-count unit-length features of ${r.unit} (${r.vocab} distinct seen in ≥ 2 training texts), L2 penalty ${r.l2} chosen on validation (accuracy ${r.valAcc.toFixed(4)}), test read once; ${r.seconds.toFixed(1)} s.`;
}
