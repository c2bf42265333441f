// Decoder-only transformer in two flavours, forward and backward written straight through (llm.c style), each
// sub-layer's forward beside its backward (attention and feed-forward sub-layers of a block, norms, heads):
//   llama: RMSNorm, RoPE, SwiGLU MLP, grouped-query heads, no biases, optional tied embeddings
//   gpt2:  LayerNorm (weight+bias), learned positions, GELU MLP, biases everywhere
// Heads: a language-model head over the vocabulary and a classification head (mean-pooled or last token).
// Inference: forwardCached decodes incrementally over a KvCache (kv-cache.ts); generate uses it.
// Seams: each block's feed-forward is a FeedForward module (ffn.ts: the classical MLPs, a low-rank MLP, the
// quantum FFN) and any head can take its scores from a HeadScorer (head-scorer.ts), both in training and decoding.
import {
  attentionBackward,
  attentionForward,
  cachedAttentionForward,
  ropePermuteBackward,
  ropePermuteForward,
  ropeRowsForward,
  ropeTables,
} from './attention';
import { GeluMlp, SwigluMlp, type FeedForward } from './ffn';
import type { HeadScorer } from './head-scorer';
import { KvCache } from './kv-cache';
import {
  dropoutBackward,
  dropoutForward,
  embeddingBackward,
  embeddingForward,
  ensure,
  layernormBackward,
  layernormForward,
  Linear,
  positionBackward,
  positionForward,
  rmsnormBackward,
  rmsnormForward,
  type LinearLike,
} from './layers';
import { allocMatmulResident, freeMatmulResident, holdMatmulOperands, isMatmulResident } from './matmul';
import { Kernel, runRows, setRowsTrainingPass } from './rows';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward, xentGradRows } from './losses';
import { Rng } from '../util/rng';
import { alloc, checkPositiveInt, dtypeOf, NnError, Parameter, type Arr, type Dtype } from './tensor';

export interface TransformerConfig {
  flavour: 'llama' | 'gpt2';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); defaults to numHeads. Must divide numHeads. */
  numKvHeads?: number;
  /** Longest sequence (GPT-2 position table size; RoPE tables are built up to it). */
  maxSeqLen: number;
  ropeTheta?: number;
  normEps?: number;
  /** LM head shares the token embedding (no lm_head.weight). */
  tieEmbeddings?: boolean;
  /** Residual dropout on the attention and MLP outputs while training. */
  dropout?: number;
  /** Adds a classification head `score` (numClasses, hidden) with bias. */
  numClasses?: number;
  pooling?: 'mean' | 'last';
  initStd?: number;
}

interface Norm {
  w: Parameter; // (C)
  b: Parameter | null; // (C), gpt2 only
}

interface Block {
  norm1: Norm;
  q: LinearLike;
  k: LinearLike;
  v: LinearLike;
  o: LinearLike;
  /** Per query head, the scorer replacing q·k/√hd; null while every head is classical (the fast path). */
  scorers: (HeadScorer | null)[] | null;
  norm2: Norm;
  /** SwiGLU MLP (llama), GELU MLP (gpt2), or whatever replaceFeedForward put there. */
  ffn: FeedForward;
}

/** Activations of one block for a (B, T) batch; shapes in comments. */
interface BlockActs {
  ln1: Arr; // (BT, C)
  mean1: Arr; // (BT)
  rstd1: Arr; // (BT)
  q: Arr; // (BT, NH·hd)
  k: Arr; // (BT, NKV·hd)
  v: Arr; // (BT, NKV·hd)
  qh: Arr; // (B, NH, T, hd) after RoPE
  kh: Arr; // (B, NKV, T, hd) after RoPE
  vh: Arr; // (B, NKV, T, hd)
  att: Arr; // (B, NH, T, T)
  y: Arr; // (BT, NH·hd)
  ao: Arr; // (BT, C) attention output projection (after dropout)
  mask1: Arr; // (BT, C) dropout mask
  res1: Arr; // (BT, C)
  ln2: Arr; // (BT, C)
  mean2: Arr; // (BT)
  rstd2: Arr; // (BT)
  mo: Arr; // (BT, C) feed-forward output (after dropout); the FFN module keeps its own activations
  mask2: Arr; // (BT, C)
  res2: Arr; // (BT, C) block output
}

/** Gradient scratch of backward, shared by all blocks since backward visits them one at a time. */
interface GradScratch {
  stream: Arr; // (BT, C) ∂L/∂(residual stream)
  dC: Arr; // (BT, C) ∂L/∂(a branch output before dropout)
  dln: Arr; // (BT, C) ∂L/∂(normed input of a branch)
  dq: Arr; // (BT, NH·hd)
  dk: Arr; // (BT, NKV·hd)
  dv: Arr; // (BT, NKV·hd)
  dqh: Arr; // (B, NH, T, hd)
  dkh: Arr; // (B, NKV, T, hd)
  dvh: Arr; // (B, NKV, T, hd)
  dyh: Arr; // (B, NH, T, hd); also the forward's attention scratch yh
  datt: Arr; // (T, T): attention.ts keeps its own (B, NH, T, T) buffer when this is short
  dy: Arr; // (BT, NH·hd)
}

const noScratch = (): GradScratch => {
  const z = new Float32Array(0);
  return { stream: z, dC: z, dln: z, dq: z, dk: z, dv: z, dqh: z, dkh: z, dvh: z, dyh: z, datt: z, dy: z };
};

export class Transformer {
  readonly config: Required<Omit<TransformerConfig, 'numClasses'>> & { numClasses: number };
  readonly dtype: Dtype;
  readonly embed: Parameter; // (V, C)
  readonly positions: Parameter | null; // (maxT, C), gpt2
  readonly blocks: Block[] = [];
  readonly normF: Norm;
  readonly lmHead: Linear;
  readonly score: Linear | null;
  training = false;
  private rng: Rng;
  private cos: Float64Array | null = null;
  private sin: Float64Array | null = null;
  // batch state
  private B = 0;
  private T = 0;
  private tokens: Int32Array = new Int32Array(0); // (B, T)
  private x0: Arr | null = null; // (BT, C) embeddings
  private acts: BlockActs[] = [];
  private lnf: Arr | null = null; // (BT, C) final normed hidden
  private meanf: Arr | null = null; // (BT)
  private rstdf: Arr | null = null; // (BT)
  /** (BT, V) logits of the last lmForward. */
  logits: Arr | null = null;
  private probs: Arr | null = null; // (BT, V)
  private targets: Int32Array = new Int32Array(0);
  private lossCount = 0;
  private pooled: Arr | null = null; // (B, C)
  /** (B, numClasses) class logits of the last classifyForward. */
  classLogits: Arr | null = null;
  private classProbs: Arr | null = null; // (B, numClasses)
  private labels: Int32Array = new Int32Array(0);
  private g: GradScratch = noScratch();
  /** The batch-shaped arrays of the current (B, T) that live in the matmul engine's memory (training only). */
  private resident: Arr[] = [];
  /** Resident arrays of earlier shapes by length, reused when a shape comes back (until releaseResident). */
  private readonly spareResident = new Map<number, Arr[]>();
  /** The feed-forward modules the constructor built (init() re-initialises only those). */
  private readonly ownFfns = new Set<FeedForward>();

  constructor(config: TransformerConfig, opts: { dtype?: Dtype; seed?: number } = {}) {
    const c = config;
    if (c.flavour !== 'llama' && c.flavour !== 'gpt2')
      throw new NnError(`must be "llama" or "gpt2", got ${JSON.stringify(c.flavour)}`, 'config.flavour');
    for (const f of [
      'vocabSize',
      'hiddenSize',
      'intermediateSize',
      'numLayers',
      'numHeads',
      'maxSeqLen',
    ] as const)
      checkPositiveInt(c[f], `config.${f}`);
    const numKvHeads = checkPositiveInt(c.numKvHeads ?? c.numHeads, 'config.numKvHeads');
    if (c.hiddenSize % c.numHeads !== 0)
      throw new NnError(
        `hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`,
        'config.numHeads',
      );
    if (c.numHeads % numKvHeads !== 0)
      throw new NnError(`must divide numHeads ${c.numHeads}, got ${numKvHeads}`, 'config.numKvHeads');
    if ((c.hiddenSize / c.numHeads) % 2 !== 0 && c.flavour === 'llama')
      throw new NnError('head dimension must be even for RoPE', 'config.hiddenSize');
    const dropout = c.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1))
      throw new NnError(`must be in [0, 1), got ${dropout}`, 'config.dropout');
    this.config = {
      ...c,
      numKvHeads,
      ropeTheta: c.ropeTheta ?? 10000,
      normEps: c.normEps ?? 1e-5,
      tieEmbeddings: c.tieEmbeddings ?? false,
      dropout,
      numClasses: c.numClasses ?? 0,
      pooling: c.pooling ?? 'last',
      initStd: c.initStd ?? 0.02,
    };
    const cfg = this.config;
    const dtype = (this.dtype = opts.dtype ?? 'f32');
    const C = cfg.hiddenSize;
    const hd = C / cfg.numHeads;
    const llama = cfg.flavour === 'llama';
    const bias = !llama;
    this.rng = new Rng(opts.seed ?? 0);
    this.embed = new Parameter('model.embed_tokens.weight', [cfg.vocabSize, C], dtype);
    this.positions = llama ? null : new Parameter('model.embed_positions.weight', [cfg.maxSeqLen, C], dtype);
    const norm = (name: string): Norm => ({
      w: new Parameter(`${name}.weight`, [C], dtype),
      b: llama ? null : new Parameter(`${name}.bias`, [C], dtype),
    });
    for (let l = 0; l < cfg.numLayers; l++) {
      const p = `model.layers.${l}`;
      const lin = (n: string, i: number, o: number) => new Linear(`${p}.${n}`, i, o, { bias, dtype });
      const ffn = llama
        ? new SwigluMlp(`${p}.mlp`, C, cfg.intermediateSize, { bias, dtype })
        : new GeluMlp(`${p}.mlp`, C, cfg.intermediateSize, { bias, dtype });
      this.ownFfns.add(ffn);
      this.blocks.push({
        norm1: norm(`${p}.input_layernorm`),
        q: lin('self_attn.q_proj', C, cfg.numHeads * hd),
        k: lin('self_attn.k_proj', C, numKvHeads * hd),
        v: lin('self_attn.v_proj', C, numKvHeads * hd),
        o: lin('self_attn.o_proj', cfg.numHeads * hd, C),
        scorers: null,
        norm2: norm(`${p}.post_attention_layernorm`),
        ffn,
      });
    }
    this.normF = norm('model.norm');
    this.lmHead = cfg.tieEmbeddings
      ? new Linear('lm_head', C, cfg.vocabSize, { dtype, weight: this.embed })
      : new Linear('lm_head', C, cfg.vocabSize, { dtype });
    this.score = cfg.numClasses > 0 ? new Linear('score', C, cfg.numClasses, { bias: true, dtype }) : null;
    if (llama) ({ cos: this.cos, sin: this.sin } = ropeTables(cfg.maxSeqLen, hd, cfg.ropeTheta));
    this.init();
  }

  /**
   * Normal(0, initStd) weights (output projections scaled by 1/√(2L) as GPT-2), ones/zeros for norms and biases.
   * Feed-forward modules and head scorers set by replaceFeedForward / setHeadScorer keep their own init.
   */
  init(): void {
    const std = this.config.initStd;
    const projStd = std / Math.sqrt(2 * this.config.numLayers);
    const foreign = new Set<Parameter>();
    for (const b of this.blocks) {
      if (!this.ownFfns.has(b.ffn)) for (const p of b.ffn.parameters()) foreign.add(p);
      for (const sc of b.scorers ?? []) for (const p of sc?.parameters() ?? []) foreign.add(p);
    }
    for (const p of this.parameters()) {
      if (foreign.has(p)) continue;
      if (p.shape.length === 1)
        p.data.fill(p.name.endsWith('norm.weight') || /layernorm\.weight$/.test(p.name) ? 1 : 0);
      else this.rng.fillNormal(p.data, /(o_proj|down_proj)\.weight$/.test(p.name) ? projStd : std);
    }
  }

  /** Every parameter once, in a fixed order, with Hugging Face style names. */
  parameters(): Parameter[] {
    const ps: Parameter[] = [this.embed];
    if (this.positions) ps.push(this.positions);
    const norm = (n: Norm) => (n.b ? [n.w, n.b] : [n.w]);
    for (const b of this.blocks) {
      ps.push(
        ...norm(b.norm1),
        ...b.q.parameters(),
        ...b.k.parameters(),
        ...b.v.parameters(),
        ...b.o.parameters(),
      );
      for (const sc of b.scorers ?? []) if (sc) ps.push(...sc.parameters());
      ps.push(...norm(b.norm2), ...b.ffn.parameters());
    }
    ps.push(...norm(this.normF));
    if (!this.config.tieEmbeddings) ps.push(...this.lmHead.parameters());
    else if (this.lmHead.adapter) ps.push(...this.lmHead.adapter.parameters());
    if (this.score) ps.push(...this.score.parameters());
    return ps;
  }

  /** The replaceable linear maps by base name, e.g. "model.layers.0.self_attn.q_proj". */
  namedLinears(): [string, LinearLike][] {
    const out: [string, LinearLike][] = [];
    this.blocks.forEach((b, l) => {
      const p = `model.layers.${l}`;
      out.push([`${p}.self_attn.q_proj`, b.q], [`${p}.self_attn.k_proj`, b.k]);
      out.push([`${p}.self_attn.v_proj`, b.v], [`${p}.self_attn.o_proj`, b.o]);
      for (const [name, lin] of b.ffn.namedLinears()) out.push([`${p}.${name}`, lin]);
    });
    out.push(['lm_head', this.lmHead]);
    return out;
  }

  /** Swaps a block's linear map (an MPO layer, a quantum layer…) keeping its shape. */
  replaceLinear(name: string, layer: LinearLike): void {
    const m = /^model\.layers\.(\d+)\.(self_attn\.(q|k|v|o)_proj|\w+(?:\.\w+)*)$/.exec(name);
    const block = m ? this.blocks[Number(m[1])] : undefined;
    const inFfn = m && !m[3] ? block?.ffn.namedLinears().find(([n]) => n === m[2]) : undefined;
    const old = m?.[3] ? block?.[m[3] as 'q' | 'k' | 'v' | 'o'] : inFfn?.[1];
    if (!m || !block || !old) throw new NnError('not a replaceable linear of this model', name);
    if (old.inFeatures !== layer.inFeatures || old.outFeatures !== layer.outFeatures)
      throw new NnError(`shape must stay (${old.outFeatures}, ${old.inFeatures})`, name);
    if (m[3]) block[m[3] as 'q' | 'k' | 'v' | 'o'] = layer;
    else block.ffn.replaceLinear(m[2], layer);
  }

  /** The feed-forward module of block `layer`. */
  feedForward(layer: number): FeedForward {
    return this.blockAt(layer).ffn;
  }

  /**
   * Puts `module` in place of block `layer`'s feed-forward (a quantum FFN, a low-rank MLP…). It must map hiddenSize
   * to hiddenSize and hold parameters of the model's dtype; the block's norm, residual and dropout stay.
   */
  replaceFeedForward(layer: number, module: FeedForward): void {
    const block = this.blockAt(layer);
    const C = this.config.hiddenSize;
    const f = `model.layers.${layer}.mlp`;
    if (module.hiddenSize !== C)
      throw new NnError(`must be the model's hiddenSize ${C}, got ${module.hiddenSize}`, `${f}.hiddenSize`);
    const p = module.parameters().find((x) => dtypeOf(x.data) !== this.dtype);
    if (p)
      throw new NnError(
        `parameter ${p.name} is ${dtypeOf(p.data)}, the model is ${this.dtype}`,
        `${f}.dtype`,
      );
    block.ffn = module;
  }

  /** Gives head `head` of block `layer` its scores from `scorer` (null restores q·k/√hd). */
  setHeadScorer(layer: number, head: number, scorer: HeadScorer | null): void {
    const block = this.blockAt(layer);
    const NH = this.config.numHeads;
    const hd = this.config.hiddenSize / NH;
    if (!Number.isInteger(head) || head < 0 || head >= NH)
      throw new NnError(`must be an integer in [0, ${NH - 1}], got ${head}`, 'head');
    const f = `model.layers.${layer}.self_attn.heads.${head}`;
    if (scorer && scorer.headDim !== hd)
      throw new NnError(`must be the model's head dimension ${hd}, got ${scorer.headDim}`, `${f}.headDim`);
    const p = scorer?.parameters().find((x) => dtypeOf(x.data) !== this.dtype);
    if (p)
      throw new NnError(
        `parameter ${p.name} is ${dtypeOf(p.data)}, the model is ${this.dtype}`,
        `${f}.dtype`,
      );
    const s = block.scorers ?? new Array<HeadScorer | null>(NH).fill(null);
    s[head] = scorer;
    block.scorers = s.some((x) => x !== null) ? s : null;
  }

  /** The scorer of head `head` of block `layer`, or null when it is classical. */
  headScorer(layer: number, head: number): HeadScorer | null {
    return this.blockAt(layer).scorers?.[head] ?? null;
  }

  private blockAt(layer: number): Block {
    const b = Number.isInteger(layer) ? this.blocks[layer] : undefined;
    if (!b) throw new NnError(`must be an integer in [0, ${this.blocks.length - 1}], got ${layer}`, 'layer');
    return b;
  }

  private alloc(n: number, old: Arr | null): Arr {
    return ensure(old, this.dtype, n);
  }

  /**
   * A zeroed batch-shaped array (activations, gradient scratch, logits). While training in f32 it lives in the
   * matmul engine's memory, so the products read and write it in place instead of copying it in and out
   * (allocMatmulResident); that space stays taken until releaseResident, so arrays of an earlier (B, T) are kept and reused when
   * the shape comes back. Else (inference, f64, no engine, budget spent) an ordinary array.
   */
  private act(n: number): Arr {
    if (!this.training || this.dtype !== 'f32') return this.alloc(n, null);
    const old = this.spareResident.get(n)?.pop();
    if (old) old.fill(0);
    const x = old ?? allocMatmulResident(n);
    if (!x) return this.alloc(n, null);
    this.resident.push(x);
    return x;
  }

  /**
   * The model's own classical parameters (embeddings, norms, the attention maps and constructor-built feed-forward
   * maps that are plain Linear layers, the heads), whose arrays this class and Linear read at each use: those
   * residentParameters may move. Replaced modules, head scorers and adapters keep theirs.
   */
  private ownParameters(): Parameter[] {
    const ps: Parameter[] = [this.embed];
    if (this.positions) ps.push(this.positions);
    const lin = (l: LinearLike) => (l instanceof Linear ? [l.weight, ...(l.bias ? [l.bias] : [])] : []);
    const norm = (n: Norm) => (n.b ? [n.w, n.b] : [n.w]);
    for (const b of this.blocks) {
      ps.push(...norm(b.norm1), ...lin(b.q), ...lin(b.k), ...lin(b.v), ...lin(b.o), ...norm(b.norm2));
      if (this.ownFfns.has(b.ffn)) for (const [, l] of b.ffn.namedLinears()) ps.push(...lin(l));
    }
    ps.push(...norm(this.normF), ...lin(this.lmHead));
    if (this.score) ps.push(...lin(this.score));
    return [...new Set(ps)];
  }

  /**
   * While training in f32, moves the own parameters' values and gradients into the matmul engine's memory
   * (Parameter.relocate), so the products read the weights and add into the weight gradients in place instead
   * of copying them in (and the gradients back out) for every product. Like the activations (act), that space is
   * taken until releaseResident (which moves them out again); a parameter that does not fit stays where it is.
   */
  private residentParameters(): void {
    if (!this.training || this.dtype !== 'f32') return;
    const own = this.ownParameters();
    for (const p of own) p.onEngine = true; // Adam's kernel, moved or not (rows.ts: numbers independent of budget)
    for (const p of own) {
      if (isMatmulResident(p.data) && isMatmulResident(p.grad)) continue;
      const data = allocMatmulResident(p.size);
      const grad = data && allocMatmulResident(p.size);
      if (!data || !grad) return;
      p.relocate(data, grad);
    }
  }

  /**
   * Gives back everything this model holds in the matmul engine's memory — its activations, its feed-forward
   * modules' buffers, and its own parameters' values and gradients, which move into ordinary arrays first — so a
   * model trained after it in the same process finds the space (training jobs call it, with their optimizer's
   * releaseResident, when a model's training ends). The model stays usable: the next forward allocates again
   * (resident again while training). Call it after the last backward; arrays an earlier call returned (logits)
   * are no longer valid.
   */
  releaseResident(): void {
    const all = new Set<Arr>(this.resident);
    for (const list of this.spareResident.values()) for (const x of list) all.add(x);
    for (const x of all) freeMatmulResident(x);
    this.resident = [];
    this.spareResident.clear();
    this.logits = null;
    this.probs = null;
    this.hasLoss = false;
    this.B = 0;
    this.T = 0;
    for (const b of this.blocks) b.ffn.releaseResident?.();
    for (const p of this.ownParameters())
      if (isMatmulResident(p.data) || isMatmulResident(p.grad)) {
        const [d, g] = [p.data, p.grad];
        p.relocate(alloc(this.dtype, p.size), alloc(this.dtype, p.size));
        freeMatmulResident(d);
        freeMatmulResident(g);
      }
  }

  private prepare(B: number, T: number): void {
    this.residentParameters();
    if (B === this.B && T === this.T) return;
    const cfg = this.config;
    if (T > cfg.maxSeqLen) throw new NnError(`sequence length ${T} exceeds maxSeqLen ${cfg.maxSeqLen}`, 'T');
    const C = cfg.hiddenSize;
    const hd = C / cfg.numHeads;
    const NH = cfg.numHeads;
    const NKV = cfg.numKvHeads;
    const BT = B * T;
    for (const x of this.resident) {
      const list = this.spareResident.get(x.length) ?? [];
      list.push(x);
      this.spareResident.set(x.length, list);
    }
    this.resident = [];
    const a = (n: number) => this.act(n);
    this.x0 = a(BT * C);
    this.acts = this.blocks.map(() => ({
      ln1: a(BT * C),
      mean1: a(BT),
      rstd1: a(BT),
      q: a(BT * NH * hd),
      k: a(BT * NKV * hd),
      v: a(BT * NKV * hd),
      qh: a(BT * NH * hd),
      kh: a(BT * NKV * hd),
      vh: a(BT * NKV * hd),
      att: a(B * NH * T * T),
      y: a(BT * NH * hd),
      ao: a(BT * C),
      mask1: a(cfg.dropout > 0 ? BT * C : 0),
      res1: a(BT * C),
      ln2: a(BT * C),
      mean2: a(BT),
      rstd2: a(BT),
      mo: a(BT * C),
      mask2: a(cfg.dropout > 0 ? BT * C : 0),
      res2: a(BT * C),
    }));
    this.lnf = a(BT * C);
    this.meanf = a(BT);
    this.rstdf = a(BT);
    this.g = {
      stream: a(BT * C),
      dC: a(BT * C),
      dln: a(BT * C),
      dq: a(BT * NH * hd),
      dk: a(BT * NKV * hd),
      dv: a(BT * NKV * hd),
      dqh: a(BT * NH * hd),
      dkh: a(BT * NKV * hd),
      dvh: a(BT * NKV * hd),
      dyh: a(BT * NH * hd),
      // all B·NH heads' score gradients where they can be resident, else one head's (attention.ts keeps its own)
      datt: a(this.training && this.dtype === 'f32' ? B * NH * T * T : T * T),
      dy: a(BT * NH * hd),
    };
    this.logits = null;
    this.probs = null;
    this.B = B;
    this.T = T;
  }

  private normForward(out: Arr, mean: Arr, rstd: Arr, inp: Arr, n: Norm, N: number) {
    const C = this.config.hiddenSize;
    if (n.b) layernormForward(out, mean, rstd, inp, n.w.data, n.b.data, N, C, this.config.normEps);
    else rmsnormForward(out, rstd, inp, n.w.data, N, C, this.config.normEps);
  }

  private normBackward(dinp: Arr, dout: Arr, inp: Arr, mean: Arr, rstd: Arr, n: Norm, N: number) {
    const C = this.config.hiddenSize;
    const dw = n.w.frozen ? null : n.w.grad;
    if (n.b) layernormBackward(dinp, dw, n.b.frozen ? null : n.b.grad, dout, inp, n.w.data, mean, rstd, N, C);
    else rmsnormBackward(dinp, dw, dout, inp, n.w.data, rstd, N, C);
  }

  /** Runs the trunk on tokens (B, T) and returns the final normed hidden states (BT, C). */
  forwardHidden(tokens: Int32Array, B: number, T: number): Arr {
    const old = setRowsTrainingPass(this.training);
    try {
      if (tokens.length !== B * T)
        throw new NnError(`has ${tokens.length} ids, expected B·T = ${B * T}`, 'tokens');
      this.prepare(B, T);
      const cfg = this.config;
      const C = cfg.hiddenSize;
      const BT = B * T;
      this.tokens = tokens;
      const x0 = this.x0!;
      embeddingForward(x0, tokens, this.embed.data, BT, C, cfg.vocabSize);
      if (this.positions) positionForward(x0, this.positions.data, B, T, C);
      let x = x0;
      for (let l = 0; l < this.blocks.length; l++) {
        this.blockForward(l, x);
        x = this.acts[l].res2;
      }
      this.normForward(this.lnf!, this.meanf!, this.rstdf!, x, this.normF, BT);
      return this.lnf!;
    } finally {
      setRowsTrainingPass(old);
    }
  }

  /** Backward through the trunk from ∂L/∂hidden (BT, C); adds into every trainable parameter's grad. */
  backwardHidden(dhidden: Arr): void {
    const old = setRowsTrainingPass(this.training);
    try {
      const { B, T } = this;
      const C = this.config.hiddenSize;
      const BT = B * T;
      const stream = this.g.stream; // ∂L/∂(residual stream), (BT, C)
      stream.fill(0);
      const L = this.blocks.length;
      const xLast = L > 0 ? this.acts[L - 1].res2 : this.x0!;
      this.normBackward(stream, dhidden, xLast, this.meanf!, this.rstdf!, this.normF, BT);
      for (let l = L - 1; l >= 0; l--) this.blockBackward(l, l > 0 ? this.acts[l - 1].res2 : this.x0!);
      if (this.positions && !this.positions.frozen) positionBackward(this.positions.grad, stream, B, T, C);
      if (!this.embed.frozen) embeddingBackward(this.embed.grad, stream, this.tokens, BT, C);
    } finally {
      setRowsTrainingPass(old);
    }
  }

  // One block, pre-norm: res1 = x + drop(attn(norm1(x))), res2 = res1 + drop(ffn(norm2(res1))). Below, each
  // sub-layer's forward sits beside its backward; backward runs on g.stream = ∂L/∂(block output) and leaves
  // ∂L/∂(block input) there (the residual passes the stream through, each branch adds its input gradient).

  private blockForward(l: number, x: Arr): void {
    const A = this.acts[l];
    const n = this.B * this.T * this.config.hiddenSize;
    this.attentionSublayerForward(l, x);
    runRows(Kernel.Add, [A.res1, x, A.ao], [n], n);
    this.ffnSublayerForward(l, A.res1);
    runRows(Kernel.Add, [A.res2, A.res1, A.mo], [n], n);
  }

  private blockBackward(l: number, x: Arr): void {
    this.ffnSublayerBackward(l, this.acts[l].res1);
    this.attentionSublayerBackward(l, x);
  }

  /** Dropout on a branch output in place while training (mask kept for branchBackward). */
  private branchDropout(out: Arr, mask: Arr): void {
    const n = this.B * this.T * this.config.hiddenSize;
    if (this.training && this.config.dropout > 0)
      dropoutForward(out, mask, out, n, this.config.dropout, this.rng);
  }

  /** ∂L/∂(branch output before dropout) from the stream, into g.dC. */
  private branchBackward(mask: Arr): Arr {
    const n = this.B * this.T * this.config.hiddenSize;
    const d = this.g.dC;
    if (this.training && this.config.dropout > 0) {
      d.fill(0, 0, n);
      dropoutBackward(d, this.g.stream, mask, n);
    } else d.set(this.g.stream.subarray(0, n));
    return d;
  }

  /** Attention sub-layer: ln1 = norm1(x); q, k, v = maps of ln1 (RoPE on q, k); ao = drop(o(attention)). */
  private attentionSublayerForward(l: number, x: Arr): void {
    const blk = this.blocks[l];
    const A = this.acts[l];
    const { B, T } = this;
    const cfg = this.config;
    const NH = cfg.numHeads;
    const NKV = cfg.numKvHeads;
    const hd = cfg.hiddenSize / NH;
    const BT = B * T;
    this.normForward(A.ln1, A.mean1, A.rstd1, x, blk.norm1, BT);
    blk.q.forward(A.q, A.ln1, BT);
    blk.k.forward(A.k, A.ln1, BT);
    blk.v.forward(A.v, A.ln1, BT);
    ropePermuteForward(A.qh, A.q, this.cos, this.sin, B, T, NH, hd);
    ropePermuteForward(A.kh, A.k, this.cos, this.sin, B, T, NKV, hd);
    ropePermuteForward(A.vh, A.v, null, null, B, T, NKV, hd);
    if (blk.scorers) for (const sc of blk.scorers) sc?.prepare(B, T);
    attentionForward(A.y, A.att, this.g.dyh, A.qh, A.kh, A.vh, B, T, NH, NKV, hd, blk.scorers);
    blk.o.forward(A.ao, A.y, BT);
    this.branchDropout(A.ao, A.mask1);
  }

  private attentionSublayerBackward(l: number, x: Arr): void {
    const blk = this.blocks[l];
    const A = this.acts[l];
    const { B, T, g } = this;
    const cfg = this.config;
    const NH = cfg.numHeads;
    const NKV = cfg.numKvHeads;
    const hd = cfg.hiddenSize / NH;
    const BT = B * T;
    const dao = this.branchBackward(A.mask1);
    g.dy.fill(0);
    blk.o.backward(g.dy, dao, A.y, BT);
    g.dqh.fill(0);
    g.dkh.fill(0);
    g.dvh.fill(0);
    attentionBackward(
      g.dqh,
      g.dkh,
      g.dvh,
      g.dyh,
      g.datt,
      g.dy,
      A.att,
      A.qh,
      A.kh,
      A.vh,
      B,
      T,
      NH,
      NKV,
      hd,
      blk.scorers,
    );
    g.dq.fill(0);
    g.dk.fill(0);
    g.dv.fill(0);
    ropePermuteBackward(g.dq, g.dqh, this.cos, this.sin, B, T, NH, hd);
    ropePermuteBackward(g.dk, g.dkh, this.cos, this.sin, B, T, NKV, hd);
    ropePermuteBackward(g.dv, g.dvh, null, null, B, T, NKV, hd);
    g.dln.fill(0);
    blk.q.backward(g.dln, g.dq, A.ln1, BT);
    blk.k.backward(g.dln, g.dk, A.ln1, BT);
    blk.v.backward(g.dln, g.dv, A.ln1, BT);
    this.normBackward(g.stream, g.dln, x, A.mean1, A.rstd1, blk.norm1, BT);
  }

  /** Feed-forward sub-layer: ln2 = norm2(res1); mo = drop(ffn(ln2)), the FeedForward module (ffn.ts) in between. */
  private ffnSublayerForward(l: number, res1: Arr): void {
    const blk = this.blocks[l];
    const A = this.acts[l];
    const BT = this.B * this.T;
    this.normForward(A.ln2, A.mean2, A.rstd2, res1, blk.norm2, BT);
    blk.ffn.prepare(BT, this.training && this.dtype === 'f32');
    blk.ffn.forward(A.mo, A.ln2, BT);
    this.branchDropout(A.mo, A.mask2);
  }

  private ffnSublayerBackward(l: number, res1: Arr): void {
    const blk = this.blocks[l];
    const A = this.acts[l];
    const BT = this.B * this.T;
    const dmo = this.branchBackward(A.mask2);
    this.g.dln.fill(0);
    blk.ffn.backward(this.g.dln, dmo, A.ln2, BT);
    this.normBackward(this.g.stream, this.g.dln, res1, A.mean2, A.rstd2, blk.norm2, BT);
  }

  /**
   * Language-model forward: logits (BT, V) for tokens (B, T); with targets (B·T ids, ignoreIndex to skip)
   * also the mean cross-entropy, which lmBackward() differentiates.
   */
  lmForward(tokens: Int32Array, B: number, T: number, targets?: Int32Array, ignoreIndex = -100): number {
    const old = setRowsTrainingPass(this.training);
    try {
      const V = this.config.vocabSize;
      const BT = B * T;
      const hidden = this.forwardHidden(tokens, B, T);
      this.logits = this.logits && this.logits.length >= BT * V ? this.logits : this.act(BT * V);
      this.lmHead.forward(this.logits, hidden, BT);
      if (!targets) return NaN;
      if (targets.length !== BT) throw new NnError(`has ${targets.length} ids, expected ${BT}`, 'targets');
      this.probs = this.probs && this.probs.length >= BT * V ? this.probs : this.act(BT * V);
      const { loss, count } = softmaxCrossEntropyForward(
        this.probs,
        this.logits,
        targets,
        BT,
        V,
        ignoreIndex,
      );
      this.targets = targets;
      this.lossCount = count;
      this.ignoreIndex = ignoreIndex;
      this.hasLoss = true;
      return loss;
    } finally {
      setRowsTrainingPass(old);
    }
  }
  private ignoreIndex = -100;
  private hasLoss = false;

  /** Backward of the cross-entropy of the last lmForward with targets. */
  lmBackward(): void {
    const old = setRowsTrainingPass(this.training);
    try {
      const V = this.config.vocabSize;
      const BT = this.B * this.T;
      if (!this.probs || !this.hasLoss) throw new NnError('call lmForward with targets first', 'lmBackward');
      this.hasLoss = false;
      const dlogits = this.probs; // reuse: the gradient is written in place of the probabilities
      const s = this.lossCount > 0 ? 1 / this.lossCount : 0;
      xentGradRows(dlogits, this.targets, BT, V, this.ignoreIndex, s);
      this.backwardFromLogits(dlogits);
    } finally {
      setRowsTrainingPass(old);
    }
  }

  /** Backward from any ∂L/∂logits (BT, V) of the last lmForward (distillation losses). */
  backwardFromLogits(dlogits: Arr): void {
    const old = setRowsTrainingPass(this.training);
    try {
      const BT = this.B * this.T;
      const dh = this.g.dC;
      dh.fill(0);
      this.lmHead.backward(dh, dlogits, this.lnf!, BT);
      // g.dC is read by the final norm's backward before the blocks reuse it
      this.backwardHidden(dh.subarray(0, BT * this.config.hiddenSize));
    } finally {
      setRowsTrainingPass(old);
    }
  }

  /** Classification forward (B, T) → (B, numClasses); with labels returns the mean cross-entropy. */
  classifyForward(tokens: Int32Array, B: number, T: number, labels?: Int32Array): number {
    const old = setRowsTrainingPass(this.training);
    try {
      const head = this.score;
      if (!head)
        throw new NnError('the model has no classification head (set numClasses)', 'config.numClasses');
      const C = this.config.hiddenSize;
      const K = this.config.numClasses;
      const hidden = this.forwardHidden(tokens, B, T);
      const pooled = (this.pooled = this.alloc(B * C, this.pooled));
      pooled.fill(0);
      for (let b = 0; b < B; b++) {
        for (let t = this.config.pooling === 'mean' ? 0 : T - 1; t < T; t++) {
          const w = this.config.pooling === 'mean' ? 1 / T : 1;
          for (let c = 0; c < C; c++) pooled[b * C + c] += w * hidden[(b * T + t) * C + c];
        }
      }
      this.classLogits = this.alloc(B * K, this.classLogits);
      head.forward(this.classLogits, pooled, B);
      if (!labels) return NaN;
      if (labels.length !== B) throw new NnError(`has ${labels.length} labels, expected ${B}`, 'labels');
      this.classProbs = this.alloc(B * K, this.classProbs);
      this.labels = labels;
      const { loss, count } = softmaxCrossEntropyForward(this.classProbs, this.classLogits, labels, B, K);
      this.lossCount = count;
      return loss;
    } finally {
      setRowsTrainingPass(old);
    }
  }

  classifyBackward(): void {
    const old = setRowsTrainingPass(this.training);
    try {
      const { B, T } = this;
      const C = this.config.hiddenSize;
      const K = this.config.numClasses;
      if (!this.classProbs || !this.score)
        throw new NnError('call classifyForward with labels first', 'classifyBackward');
      const dlogits = this.alloc(B * K, null);
      softmaxCrossEntropyBackward(dlogits, this.classProbs, this.labels, B, K, this.lossCount);
      const dpooled = this.alloc(B * C, null);
      this.score.backward(dpooled, dlogits, this.pooled!, B);
      const dhidden = this.alloc(B * T * C, null);
      for (let b = 0; b < B; b++) {
        for (let t = this.config.pooling === 'mean' ? 0 : T - 1; t < T; t++) {
          const w = this.config.pooling === 'mean' ? 1 / T : 1;
          for (let c = 0; c < C; c++) dhidden[(b * T + t) * C + c] += w * dpooled[b * C + c];
        }
      }
      this.backwardHidden(dhidden);
    } finally {
      setRowsTrainingPass(old);
    }
  }

  /**
   * A key/value cache for forwardCached holding up to `maxSeqLen` positions (default and upper bound: the
   * model's config.maxSeqLen, which bounds the RoPE tables and GPT-2's position table).
   */
  createKvCache(maxSeqLen = this.config.maxSeqLen): KvCache {
    checkPositiveInt(maxSeqLen, 'maxSeqLen');
    if (maxSeqLen > this.config.maxSeqLen)
      throw new NnError(
        `cache of ${maxSeqLen} positions exceeds config.maxSeqLen ${this.config.maxSeqLen}`,
        'maxSeqLen',
      );
    const cfg = this.config;
    return new KvCache(
      {
        numLayers: cfg.numLayers,
        numKvHeads: cfg.numKvHeads,
        headDim: cfg.hiddenSize / cfg.numHeads,
        maxSeqLen,
        dtype: this.dtype,
      },
      this,
    );
  }

  /**
   * Inference forward of n new tokens at positions cache.length … cache.length + n − 1: appends their keys and
   * values to the cache and attends over cached + new positions (causal inside the chunk). Returns the logits,
   * rows (n, V), or only the last row (1, V) with `lastOnly`, in an array owned by the cache that may be longer
   * than that and is overwritten by the next call. No dropout, no activations kept for backward (the training
   * state of lmForward is untouched, but modules with their own forward caches, the feed-forward modules, LoRA,
   * MPO and head scorers' slot 0, are overwritten: do not decode between a training forward and its backward).
   */
  forwardCached(cache: KvCache, tokens: Int32Array, lastOnly = false): Arr {
    if (cache.owner !== this) throw new NnError('was created by another model', 'cache');
    setRowsTrainingPass(false);
    const n = tokens.length;
    if (n === 0) throw new NnError('must hold at least one token', 'tokens');
    const pos = cache.length;
    const maxT = cache.maxSeqLen;
    if (pos + n > maxT)
      throw new NnError(
        `${pos} cached + ${n} new positions = ${pos + n} exceed the cache's ${maxT}` +
          (maxT === this.config.maxSeqLen ? ' (config.maxSeqLen)' : ''),
        'maxSeqLen',
      );
    const cfg = this.config;
    const C = cfg.hiddenSize;
    const NH = cfg.numHeads;
    const NKV = cfg.numKvHeads;
    const hd = C / NH;
    const V = cfg.vocabSize;
    const s = cache.prepare(n, {
      hidden: C,
      qWidth: NH * hd,
      kvWidth: NKV * hd,
      numHeads: NH,
      vocab: V,
    });
    const x = s.x;
    embeddingForward(x, tokens, this.embed.data, n, C, V);
    if (this.positions) {
      const wpe = this.positions.data;
      for (let i = 0, j = pos * C; i < n * C; i++, j++) x[i] += wpe[j];
    }
    for (let l = 0; l < this.blocks.length; l++) {
      const blk = this.blocks[l];
      this.normForward(s.ln, s.mean, s.rstd, x, blk.norm1, n);
      blk.q.forward(s.q, s.ln, n);
      blk.k.forward(s.k, s.ln, n);
      blk.v.forward(s.v, s.ln, n);
      ropeRowsForward(s.qh, s.q, this.cos, this.sin, n, NH, hd, pos, n, 0);
      ropeRowsForward(cache.keys[l], s.k, this.cos, this.sin, n, NKV, hd, pos, maxT, pos);
      ropeRowsForward(cache.values[l], s.v, null, null, n, NKV, hd, pos, maxT, pos);
      if (blk.scorers) for (const sc of blk.scorers) sc?.prepare(1, maxT);
      cachedAttentionForward(
        s.y,
        s.att,
        s.yh,
        s.qh,
        cache.keys[l],
        cache.values[l],
        n,
        pos,
        NH,
        NKV,
        hd,
        maxT,
        blk.scorers,
      );
      blk.o.forward(s.ao, s.y, n);
      for (let i = 0; i < n * C; i++) x[i] += s.ao[i];
      this.normForward(s.ln, s.mean, s.rstd, x, blk.norm2, n);
      blk.ffn.prepare(n);
      blk.ffn.forward(s.mo, s.ln, n);
      for (let i = 0; i < n * C; i++) x[i] += s.mo[i];
    }
    cache.length = pos + n;
    if (lastOnly) {
      // only the last row feeds sampling: norm and project one row instead of n
      for (let c = 0, j = (n - 1) * C; c < C; c++, j++) s.last[c] = x[j];
      this.normForward(s.ln, s.mean, s.rstd, s.last, this.normF, 1);
      this.lmHead.forward(s.logits, s.ln, 1);
    } else {
      this.normForward(s.ln, s.mean, s.rstd, x, this.normF, n);
      this.lmHead.forward(s.logits, s.ln, n);
    }
    return s.logits;
  }

  private genCache: KvCache | null = null;

  /**
   * Continues `prompt` by `maxNewTokens`: greedy when topK is 1 (the default), otherwise samples from the
   * topK most likely tokens at `temperature` with a seeded generator. With the KV cache (the default) the prompt is
   * prefilled in one chunk and each new token costs one one-row forward; once the sequence reaches maxSeqLen
   * the window slides as without the cache (the last maxSeqLen tokens are prefilled again for every further
   * token), so `cache: false`, which recomputes the whole window each step, gives the same tokens.
   */
  generate(
    prompt: ArrayLike<number>,
    maxNewTokens: number,
    opts: { topK?: number; temperature?: number; seed?: number; cache?: boolean } = {},
  ): number[] {
    const topK = opts.topK ?? 1;
    const temperature = opts.temperature ?? 1;
    if (!Number.isInteger(topK) || topK < 1)
      throw new NnError(`must be a positive integer, got ${topK}`, 'topK');
    if (!(temperature > 0)) throw new NnError(`must be positive, got ${temperature}`, 'temperature');
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
      throw new NnError(`must be a non-negative integer, got ${maxNewTokens}`, 'maxNewTokens');
    if (prompt.length === 0) throw new NnError('must hold at least one token', 'prompt');
    const pick = tokenPicker(this.config.vocabSize, topK, temperature, new Rng(opts.seed ?? 0));
    const maxT = this.config.maxSeqLen;
    const seq = Array.from(prompt);
    const window = () => Int32Array.from(seq.slice(-maxT));
    const wasTraining = this.training;
    this.training = false;
    let release = () => {};
    try {
      if (opts.cache === false) {
        for (let s = 0; s < maxNewTokens; s++) {
          const ctx = window();
          this.lmForward(ctx, 1, ctx.length);
          seq.push(pick(this.logits!, (ctx.length - 1) * this.config.vocabSize));
        }
        return seq.slice(prompt.length);
      }
      if (maxNewTokens === 0) return [];
      // the weights stay in the matmul engine's memory for the whole call (they cannot change inside it), so a
      // one-token step reads them in place rather than copying every weight in once per token
      release = holdMatmulOperands(this.parameters().map((p) => p.data));
      // sized for this call (a model loaded with a 32k context need not hold 32k positions for a short reply)
      const need = Math.min(maxT, prompt.length + maxNewTokens);
      if (!this.genCache || this.genCache.maxSeqLen < need) this.genCache = this.createKvCache(need);
      const cache = this.genCache;
      cache.reset();
      const one = new Int32Array(1);
      let logits = this.forwardCached(cache, window(), true);
      for (let s = 0; ; s++) {
        const next = pick(logits, 0);
        seq.push(next);
        if (s + 1 === maxNewTokens) break;
        if (cache.length < maxT) {
          one[0] = next;
          logits = this.forwardCached(cache, one, true);
        } else {
          cache.reset();
          logits = this.forwardCached(cache, window(), true);
        }
      }
      return seq.slice(prompt.length);
    } finally {
      release();
      this.training = wasTraining;
    }
  }
}

/**
 * The next-token rule of generate over one logits row at offset o: the arg-max (lowest id on ties) when topK is 1,
 * else a draw from the topK largest logits (ordered by logit, then id) with weights exp((l − max)/temperature).
 * Buffers are allocated once; the top-k set is kept by insertion (k·V worst case, so large k sorts instead).
 */
function tokenPicker(
  V: number,
  topK: number,
  temperature: number,
  rng: Rng,
): (logits: Arr, o: number) => number {
  const k = Math.min(topK, V);
  const top = new Int32Array(k);
  const w = new Float64Array(k);
  const order = k > 64 ? new Int32Array(V) : null;
  return (logits, o) => {
    if (k === 1) {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[o + v] > logits[o + best]) best = v;
      return best;
    }
    if (order) {
      for (let v = 0; v < V; v++) order[v] = v;
      order.sort((a, b) => logits[o + b] - logits[o + a] || a - b);
      for (let i = 0; i < k; i++) top[i] = order[i];
    } else {
      let cnt = 0;
      for (let v = 0; v < V; v++) {
        const x = logits[o + v];
        if (cnt === k && !(x > logits[o + top[k - 1]])) continue;
        let j = cnt < k ? cnt++ : k - 1;
        for (; j > 0 && x > logits[o + top[j - 1]]; j--) top[j] = top[j - 1];
        top[j] = v;
      }
    }
    const max = logits[o + top[0]];
    let sum = 0;
    for (let i = 0; i < k; i++) sum += w[i] = Math.exp((logits[o + top[i]] - max) / temperature);
    let r = rng.uniform() * sum;
    for (let i = 0; i < k; i++) {
      r -= w[i];
      if (r < 0) return top[i];
    }
    return top[k - 1];
  };
}

/**
 * Runs a training loop of `model` with `opt`, then gives the engine memory both took back however the loop ends —
 * returned, thrown or cancelled — so the next model in the process trains resident too (releaseResident).
 */
export function withResidentTraining<R>(
  model: Transformer,
  opt: { releaseResident(): void },
  loop: () => R,
): R {
  try {
    return loop();
  } finally {
    model.releaseResident();
    opt.releaseResident();
  }
}
