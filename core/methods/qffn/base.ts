// The base causal LM of a QFFN run and its token streams: a LLaMA-flavour transformer pretrained here on a
// bundled corpus with a byte-level BPE trained on the same text, or a model directory the classical core loads.
// The corpus's train split feeds pretraining and every model's training; its validation and test splits give
// the perplexity streams (documents never shared between splits: core/data splits by document).
import { getDataset } from '../../data';
import { buildModel, loadModelDir } from '../../nn/checkpoint';
import { AdamW, clipGradNorm, warmupCosine } from '../../nn/optim';
import { zeroGrad } from '../../nn/tensor';
import { ByteLevelBpe, type Tokenizer } from '../../nn/tokenizers';
import { Transformer, withResidentTraining } from '../../nn/transformer';
import { Rng } from '../../util/rng';
import type { JobContext } from '../job';
import { sampleWindows } from '../../nn/lm-windows';
import type { ModelBuilder } from './models';
import type { QffnConfig } from './schema';
import type { LmStreams } from './train';

export interface Base {
  model: Transformer;
  /** An empty model of the same layout (a directory's biases included), for copies of the base. */
  build: ModelBuilder;
  /** True when the base came from a model directory (its layout is not the lab's closed form). */
  fromDir: boolean;
  tokenizer: Tokenizer;
  streams: LmStreams;
  note: string;
}

/** Token ids of the first `need` tokens of `text` (encoding a prefix of the text, widened until it suffices). */
function encodePrefix(tok: Tokenizer, text: string, need: number): Int32Array {
  for (let chars = need * 6; ; chars *= 2) {
    const ids = tok.encode(text.slice(0, chars));
    if (ids.length >= need || chars >= text.length) return Int32Array.from(ids.slice(0, need));
  }
}

export async function buildBase(cfg: QffnConfig, ctx: JobContext): Promise<Base> {
  const b = cfg.base;
  const corpus = getDataset(b.corpus);
  if (corpus.kind !== 'lm') throw new Error(`base.corpus: ${b.corpus} is not a text corpus`);
  const join = (s: 'train' | 'validation' | 'test') => corpus.splits[s].map((d) => d.text).join('\n');
  const trainText = join('train').slice(0, b.corpusChars);
  const T = cfg.seqLen;
  let model: Transformer;
  let tokenizer: Tokenizer;
  let note: string;
  let build: ModelBuilder | null = null;
  if (b.modelDir !== null) {
    const loaded = await loadModelDir(b.modelDir, { maxSeqLen: T, dtype: cfg.precision });
    if (!loaded.tokenizer)
      throw new Error(
        `base.modelDir: ${b.modelDir} has no usable tokenizer (${loaded.tokenizerIssue ?? 'unknown'})`,
      );
    model = loaded.model;
    tokenizer = loaded.tokenizer;
    note = `loaded from ${b.modelDir}`;
    const spec = loaded.spec;
    build = (dtype) => buildModel(spec, { dtype });
  } else {
    tokenizer = ByteLevelBpe.train([trainText], { vocabSize: b.vocabSize });
    model = new Transformer(
      {
        flavour: 'llama',
        vocabSize: tokenizer.vocabSize,
        hiddenSize: b.hiddenSize,
        intermediateSize: b.intermediateSize,
        numLayers: b.layers,
        numHeads: b.heads,
        maxSeqLen: T,
        tieEmbeddings: true,
      },
      { seed: b.seed, dtype: cfg.precision },
    );
    note = '';
  }
  const train = Int32Array.from(tokenizer.encode(trainText));
  if (train.length < T + 2)
    throw new Error(`base.corpusChars: ${train.length} tokens are too few for windows of ${T}`);
  const streams: LmStreams = {
    train,
    validation: encodePrefix(tokenizer, join('validation'), cfg.evalTokens + 1),
    test: encodePrefix(tokenizer, join('test'), cfg.testTokens + 1),
  };
  if (b.modelDir === null) {
    pretrain(model, streams.train, cfg, ctx);
    note = `pretrained here: ${b.pretrainSteps} steps on ${train.length} tokens of ${b.corpus}, BPE vocabulary ${tokenizer.vocabSize}`;
  }
  const config = { ...model.config };
  build ??= (dtype) => new Transformer(config, { dtype, seed: 0 });
  return { model, build, fromDir: b.modelDir !== null, tokenizer, streams, note };
}

function pretrain(model: Transformer, stream: Int32Array, cfg: QffnConfig, ctx: JobContext): void {
  const b = cfg.base;
  const B = cfg.batchSize;
  const T = cfg.seqLen;
  const params = model.parameters();
  const opt = new AdamW(params, { weightDecay: cfg.weightDecay });
  const rng = new Rng(b.seed ^ 0x5eed);
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const warmup = Math.min(b.pretrainSteps, Math.ceil(b.pretrainSteps / 20));
  model.training = true;
  withResidentTraining(model, opt, () => {
    for (let step = 1; step <= b.pretrainSteps; step++) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      sampleWindows(stream, B, T, rng, tokens, targets);
      zeroGrad(params);
      const loss = model.lmForward(tokens, B, T, targets);
      model.lmBackward();
      clipGradNorm(params, cfg.clip);
      opt.step(warmupCosine(step - 1, b.pretrainLr, warmup, b.pretrainSteps, b.pretrainLr / 10));
      if (step % 10 === 0 || step === b.pretrainSteps) {
        ctx.metrics([{ key: 'base/pretrain_loss', step, value: loss }]);
        ctx.progress(0.15 * (step / b.pretrainSteps), `base pretraining ${step}/${b.pretrainSteps}`);
      }
    }
  });
  model.training = false;
}
