// The frozen base LM every adapter of a run sits on: a LLaMA-flavour transformer pretrained here on one bundled
// corpus (its byte-level BPE trained on the same text), or a Hugging Face model directory. Its weights are kept
// as a snapshot so each model of each seed starts from the same bytes, and are checked byte-identical after
// every adapter's training (W₀ is never touched).
import { getDataset } from '../../data';
import { loadModelDir } from '../../nn/checkpoint';
import { Linear } from '../../nn/layers';
import { AdamW } from '../../nn/optim';
import { zeroGrad, type Arr, type Parameter } from '../../nn/tensor';
import { ByteLevelBpe, type Tokenizer } from '../../nn/tokenizers';
import { Transformer, withResidentTraining } from '../../nn/transformer';
import { Rng } from '../../util/rng';
import { sampleWindows } from '../../nn/lm-windows';
import type { JobContext } from '../job';
import type { BaseConfig } from './schema';

export interface Base {
  model: Transformer;
  tokenizer: Tokenizer;
  note: string;
  /** Frozen parameters and their bytes after pretraining. */
  snapshot: Map<Parameter, Arr>;
  pretrainSeconds: number;
}

function cancelled(ctx: JobContext): void {
  if (ctx.signal.aborted) throw new Error('cancelled');
}

async function pretrain(
  b: BaseConfig,
  maxSeqLen: number,
  ctx: JobContext,
): Promise<Omit<Base, 'snapshot' | 'pretrainSeconds'>> {
  const corpus = getDataset(b.corpus);
  if (corpus.kind !== 'lm') throw new Error(`base.corpus: ${b.corpus} is not a text corpus`);
  const text = corpus.splits.train
    .map((d) => d.text)
    .join('\n')
    .slice(0, b.corpusChars);
  const tokenizer = ByteLevelBpe.train([text], { vocabSize: b.vocabSize });
  const stream = Int32Array.from(tokenizer.encode(text));
  const T = b.pretrainSeqLen;
  if (b.pretrainSteps > 0 && stream.length < T + 2)
    throw new Error(`base.corpusChars: ${stream.length} tokens are too few for windows of ${T}`);
  const model = new Transformer(
    {
      flavour: 'llama',
      vocabSize: tokenizer.vocabSize,
      hiddenSize: b.hiddenSize,
      intermediateSize: b.intermediateSize,
      numLayers: b.layers,
      numHeads: b.heads,
      maxSeqLen: Math.max(T, maxSeqLen),
      tieEmbeddings: true,
    },
    { seed: b.seed, dtype: 'f32' },
  );
  model.training = true;
  const opt = new AdamW(model.parameters(), { weightDecay: 0.01 });
  const rng = new Rng(b.seed ^ 0x5eed);
  const B = b.pretrainBatch;
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  withResidentTraining(model, opt, () => {
    for (let step = 1; step <= b.pretrainSteps; step++) {
      cancelled(ctx);
      sampleWindows(stream, B, T, rng, tokens, targets);
      zeroGrad(model.parameters());
      const loss = model.lmForward(tokens, B, T, targets);
      model.lmBackward();
      opt.step(b.pretrainLr);
      if (step % 10 === 0 || step === b.pretrainSteps) {
        ctx.metrics([{ key: 'base/pretrain_loss', step, value: loss }]);
        ctx.progress(0.1 * (step / b.pretrainSteps), `base pretraining ${step}/${b.pretrainSteps}`);
      }
    }
  });
  model.training = false;
  return {
    model,
    tokenizer,
    note: `LLaMA-flavour ${b.layers}×${b.hiddenSize} pretrained ${b.pretrainSteps} steps on ${stream.length} tokens of ${b.corpus}, BPE vocabulary ${tokenizer.vocabSize}`,
  };
}

export async function buildBase(b: BaseConfig, maxSeqLen: number, ctx: JobContext): Promise<Base> {
  const t0 = performance.now();
  let built: Omit<Base, 'snapshot' | 'pretrainSeconds'>;
  if (b.modelDir !== null) {
    const loaded = await loadModelDir(b.modelDir, { maxSeqLen });
    if (!loaded.tokenizer)
      throw new Error(
        `base.modelDir: ${b.modelDir} has no usable tokenizer (${loaded.tokenizerIssue ?? 'unknown'})`,
      );
    built = { model: loaded.model, tokenizer: loaded.tokenizer, note: `loaded from ${b.modelDir}` };
  } else built = await pretrain(b, maxSeqLen, ctx);
  const params = built.model.parameters();
  for (const p of params) p.frozen = true;
  return {
    ...built,
    snapshot: new Map(params.map((p) => [p, p.data.slice()])),
    pretrainSeconds: (performance.now() - t0) / 1000,
  };
}

/** Removes every adapter, restores the base weights from the snapshot and freezes them. */
export function resetBase(base: Base): void {
  for (const [, lin] of base.model.namedLinears()) if (lin instanceof Linear) lin.adapter = null;
  for (const [p, data] of base.snapshot) {
    p.data.set(data);
    p.frozen = true;
  }
}

/** Names of the base parameters whose bytes differ from the snapshot (empty: W₀ untouched). */
export function changedBaseWeights(base: Base, except: ReadonlySet<Parameter> = new Set()): string[] {
  const out: string[] = [];
  for (const [p, data] of base.snapshot) {
    if (except.has(p)) continue;
    const a = new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength);
    const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) out.push(p.name);
  }
  return out;
}
