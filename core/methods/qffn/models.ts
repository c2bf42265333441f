// The three models of a QFFN run, all made from one base LM: the QFFN model (quantum FFNs in the chosen blocks,
// quantum scorers on a share of their heads), the uncompressed base, and the classical compressed model (the
// same blocks' FFNs narrowed or factorised to the QFFN model's parameter count). Also the per-component count
// of a built model, and the layer-wise initialisation (each replaced FFN fitted to the outputs of the one it
// replaces, MSE on captured activations).
import type { SyncSimulator } from '../../quantum/backend';
import { lowRankMlp, SwigluMlp, type FeedForward } from '../../nn/ffn';
import type { HeadScorer } from '../../nn/head-scorer';
import type { Linear, LinearLike } from '../../nn/layers';
import { Adam } from '../../nn/optim';
import { QuantumFfn } from '../../nn/quantum-ffn';
import { GaussianKernelScorer, UnitaryKernelScorer } from '../../nn/quantum-scorer';
import { zeroGrad, type Arr, type Dtype, type Parameter } from '../../nn/tensor';
import { Transformer } from '../../nn/transformer';
import type { Components } from './counts';
import { matchedClassical, quantumBlockCount, type QffnShape } from './counts';
import { quantumBlocks, quantumHeadCount, type QffnConfig } from './schema';

export type ModelKey = 'qffn' | 'uncompressed' | 'classical';

/** Builds an untrained model of the base's layout (a model directory's biases included) in `dtype`. */
export type ModelBuilder = (dtype: Dtype) => Transformer;

/** A copy of `base` in `dtype` (same layout and weights); `build` makes the empty model (default: its config). */
export function cloneModel(
  base: Transformer,
  dtype: Dtype,
  build: ModelBuilder = (dt) => new Transformer({ ...base.config }, { dtype: dt, seed: 0 }),
): Transformer {
  const m = build(dtype);
  const src = base.parameters();
  const dst = m.parameters();
  if (src.length !== dst.length) throw new Error('cloneModel: the copy has another parameter list');
  for (let i = 0; i < src.length; i++) dst[i].data.set(src[i].data);
  return m;
}

export function shapeOf(m: Transformer): QffnShape {
  const c = m.config;
  return { V: c.vocabSize, H: c.hiddenSize, I: c.intermediateSize, layers: c.numLayers, heads: c.numHeads };
}

/** What a compression did to a model: its blocks, its quantum modules' parameters, the matched size. */
export interface Compression {
  blocks: number[];
  headsPerBlock: number;
  quantum: Set<Parameter>;
  /** Replaced FFNs by block (for the layer-wise fit). */
  replaced: Map<number, FeedForward>;
  /** The classical model's width (narrow) or rank (low-rank). */
  matched?: number;
}

function scorer(
  c: QffnConfig,
  name: string,
  hd: number,
  sim: SyncSimulator,
  dtype: Dtype,
  seed: number,
  batch: boolean,
): HeadScorer {
  if (c.headKernel === 'unitary')
    return new UnitaryKernelScorer(name, hd, sim, { depth: c.depth, dtype, seed, batch });
  return new GaussianKernelScorer(name, hd, sim, {
    depth: c.depth,
    dtype,
    seed,
    batch,
    ...(c.headQubits !== null ? { qubits: c.headQubits } : {}),
  });
}

/**
 * Puts quantum FFNs and quantum head scorers into `model` (in place). `batchedHeads: false` keeps the Gaussian
 * heads on their per-sequence simulator calls (the reference the batched path is benchmarked against).
 */
export function makeQffn(
  model: Transformer,
  c: QffnConfig,
  sim: SyncSimulator,
  seed: number,
  { batchedHeads = true } = {},
): Compression {
  const s = shapeOf(model);
  const blocks = quantumBlocks(s.layers, c.fraction, c.placement, c.placementSeed);
  const h = quantumHeadCount(s.heads, c.headShare, c.quantumHeads);
  const quantum = new Set<Parameter>();
  const replaced = new Map<number, FeedForward>();
  const dtype = model.dtype;
  for (const l of blocks) {
    const ffn = new QuantumFfn(`model.layers.${l}.mlp`, s.H, sim, {
      form: c.ffnForm,
      depth: c.depth,
      ...(c.ffnForm === 'bottleneck' && c.qubits !== null ? { qubits: c.qubits } : {}),
      dtype,
      seed: seed + 101 * l,
    });
    model.replaceFeedForward(l, ffn);
    replaced.set(l, ffn);
    for (const p of ffn.parameters()) quantum.add(p);
    for (let j = 0; j < h; j++) {
      const sc = scorer(
        c,
        `model.layers.${l}.self_attn.heads.${j}`,
        s.H / s.heads,
        sim,
        dtype,
        seed + 101 * l + 7 * j + 3,
        batchedHeads,
      );
      model.setHeadScorer(l, j, sc);
      for (const p of sc.parameters()) quantum.add(p);
    }
  }
  return { blocks, headsPerBlock: h, quantum, replaced };
}

const weightOf = (l: LinearLike): Arr => (l as Linear).weight.data;

/**
 * A narrower SwiGLU keeping the `width` intermediate units of largest ‖gate_i‖·‖up_i‖·‖down_:,i‖ (structured
 * magnitude pruning of the base's own FFN).
 */
function prunedMlp(old: SwigluMlp, name: string, width: number, dtype: Dtype): SwigluMlp {
  const C = old.hiddenSize;
  const FF = old.intermediateSize;
  const g = weightOf(old.gate);
  const u = weightOf(old.up);
  const d = weightOf(old.down);
  const norm = (a: Arr, at: (j: number) => number, n: number) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[at(j)] ** 2;
    return Math.sqrt(s);
  };
  const score = Array.from(
    { length: FF },
    (_, i) => norm(g, (j) => i * C + j, C) * norm(u, (j) => i * C + j, C) * norm(d, (j) => j * FF + i, C),
  );
  const keep = score
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, width)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
  const m = new SwigluMlp(name, C, width, { dtype });
  const [mg, mu, md] = [weightOf(m.gate), weightOf(m.up), weightOf(m.down)];
  keep.forEach((i, r) => {
    mg.set(g.subarray(i * C, (i + 1) * C), r * C);
    mu.set(u.subarray(i * C, (i + 1) * C), r * C);
    for (let j = 0; j < C; j++) md[j * width + r] = d[j * FF + i];
  });
  return m;
}

/** Compresses the same blocks' FFNs classically to the QFFN model's count (in place). */
export function makeClassical(model: Transformer, c: QffnConfig, seed: number): Compression {
  const s = shapeOf(model);
  const blocks = quantumBlocks(s.layers, c.fraction, c.placement, c.placementSeed);
  const { size } = matchedClassical(c, s, quantumBlockCount(c, s));
  const replaced = new Map<number, FeedForward>();
  for (const l of blocks) {
    const name = `model.layers.${l}.mlp`;
    const old = model.feedForward(l);
    const ffn =
      c.classicalForm === 'narrow' && old instanceof SwigluMlp
        ? prunedMlp(old, name, size, model.dtype)
        : lowRankMlp(name, s.H, s.I, {
            rank: size,
            activation: 'swiglu',
            dtype: model.dtype,
            seed: seed + 101 * l,
            std: model.config.initStd,
          });
    model.replaceFeedForward(l, ffn);
    replaced.set(l, ffn);
  }
  return { blocks, headsPerBlock: 0, quantum: new Set(), replaced, matched: size };
}

/** Parameters of a built model by component (the names the lab's transformer gives them). */
export function componentCounts(model: Transformer, quantum: Set<Parameter>): Components {
  const out: Components = { embeddings: 0, attention: 0, norms: 0, ffn: 0, quantum: 0 };
  for (const p of model.parameters()) {
    const key: keyof Components = quantum.has(p)
      ? 'quantum'
      : /embed_tokens|lm_head|embed_positions|wpe/.test(p.name)
        ? 'embeddings'
        : /self_attn/.test(p.name)
          ? 'attention'
          : /\.mlp\./.test(p.name)
            ? 'ffn'
            : 'norms';
    out[key] += p.size;
  }
  return out;
}

/** A FeedForward that forwards to `inner` and keeps copies of its inputs and outputs. */
class Recorder implements FeedForward {
  readonly inputs: number[][] = [];
  readonly outputs: number[][] = [];
  constructor(readonly inner: FeedForward) {}
  get hiddenSize() {
    return this.inner.hiddenSize;
  }
  parameters() {
    return this.inner.parameters();
  }
  prepare(N: number) {
    this.inner.prepare(N);
  }
  forward(out: Arr, inp: Arr, N: number) {
    this.inner.forward(out, inp, N);
    const n = N * this.hiddenSize;
    this.inputs.push(Array.from(inp.subarray(0, n)));
    this.outputs.push(Array.from(out.subarray(0, n)));
  }
  backward(dinp: Arr, dout: Arr, inp: Arr, N: number) {
    this.inner.backward(dinp, dout, inp, N);
  }
  namedLinears() {
    return this.inner.namedLinears();
  }
  replaceLinear(name: string, layer: LinearLike) {
    this.inner.replaceLinear(name, layer);
  }
}

/** The base's FFN inputs and outputs at `blocks` over the token windows given (B sequences of T). */
export function captureFfnActivations(
  base: Transformer,
  blocks: number[],
  tokens: Int32Array,
  B: number,
  T: number,
): Map<number, { x: Float64Array; y: Float64Array; rows: number }> {
  const rec = new Map<number, Recorder>();
  for (const l of blocks) {
    const r = new Recorder(base.feedForward(l));
    rec.set(l, r);
    base.replaceFeedForward(l, r);
  }
  const training = base.training;
  base.training = false;
  try {
    base.forwardHidden(tokens, B, T);
  } finally {
    base.training = training;
    for (const [l, r] of rec) base.replaceFeedForward(l, r.inner);
  }
  const out = new Map<number, { x: Float64Array; y: Float64Array; rows: number }>();
  for (const [l, r] of rec) {
    const x = Float64Array.from(r.inputs.flat());
    out.set(l, { x, y: Float64Array.from(r.outputs.flat()), rows: x.length / base.config.hiddenSize });
  }
  return out;
}

/** Fits `ffn` to y ≈ ffn(x) by Adam on the mean squared error; returns the MSE before and after. */
export function fitFfn(
  ffn: FeedForward,
  data: { x: Float64Array; y: Float64Array; rows: number },
  o: { steps: number; lr: number; dtype: Dtype; signal?: AbortSignal },
): { before: number; after: number } {
  const { rows: N } = data;
  const C = ffn.hiddenSize;
  const mk = (n: number): Arr => (o.dtype === 'f32' ? new Float32Array(n) : new Float64Array(n));
  const x = mk(N * C);
  x.set(data.x);
  const out = mk(N * C);
  const dout = mk(N * C);
  const dinp = mk(N * C);
  const params = ffn.parameters();
  const opt = new Adam(params);
  ffn.prepare(N);
  const mse = (): number => {
    ffn.forward(out, x, N);
    let s = 0;
    for (let i = 0; i < N * C; i++) {
      const e = out[i] - data.y[i];
      s += e * e;
      dout[i] = (2 * e) / (N * C);
    }
    return s / (N * C);
  };
  const before = mse();
  let after = before;
  for (let step = 0; step < o.steps; step++) {
    if (o.signal?.aborted) throw new Error('cancelled');
    zeroGrad(params);
    if (step > 0) after = mse();
    dinp.fill(0);
    ffn.backward(dinp, dout, x, N);
    opt.step(o.lr);
  }
  if (o.steps > 0) after = mse();
  return { before, after };
}
