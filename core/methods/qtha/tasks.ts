// The two tasks an adapter is trained on, behind one interface: training batches drawn from a seeded stream
// (every model of a repetition sees the same batches), a validation evaluation read as often as the recipe asks,
// and a test evaluation read once per model.
//   lm: windows of a corpus the base did not see; loss and perplexity through the harness's LanguageModel
//     evaluation (consecutive windows, every token predicted once).
//   classification: "Classify: <text>\nAnswer:" followed by the class's label word; the loss is the
//     cross-entropy of the label word's tokens only; accuracy the argmax over the classes of the log-probability
//     of each label word's first token when those differ (one comparable score per class: summing over words of
//     2 and 9 tokens favours the short one), else of the whole word.
import { getDataset } from '../../data';
import { SPLIT_NAMES, type SplitName } from '../../data/names';
import { loadTextData } from '../../data/text';
import type { Tokenizer } from '../../nn/tokenizers';
import type { Transformer } from '../../nn/transformer';
import type { Rng } from '../../util/rng';
import { LanguageModelEvaluation } from '../harness/language-model';
import type { QthaConfig } from './schema';

const IGNORE = -100;

export interface Evaluation {
  /** Mean cross-entropy per predicted token, nats. */
  loss: number;
  perplexity: number;
  /** Classification only. */
  accuracy: number | null;
}

export interface Batch {
  tokens: Int32Array;
  targets: Int32Array;
  B: number;
  T: number;
}

export interface AdaptTask {
  name: string;
  /** Longest sequence a forward sees. */
  maxSeqLen: number;
  describe: string;
  /** The next training batch from a repetition's stream. */
  batch(rng: Rng): Batch;
  /** An evaluator bound to one model: validation any number of times, test once. */
  evaluator(model: Transformer): { validation(): Evaluation; test(): Evaluation };
}

function cut(text: string, chars: number): string {
  return text.slice(0, chars);
}

export function lmTask(c: QthaConfig, tok: Tokenizer): AdaptTask {
  const corpus = getDataset(c.targetCorpus);
  if (corpus.kind !== 'lm') throw new Error(`targetCorpus: ${c.targetCorpus} is not a text corpus`);
  const text = (s: SplitName) => corpus.splits[s].map((d) => d.text).join('\n');
  const train = Int32Array.from(tok.encode(cut(text('train'), c.targetChars)));
  const validation = Int32Array.from(tok.encode(cut(text('validation'), c.evalChars)));
  const test = Int32Array.from(tok.encode(cut(text('test'), c.evalChars)));
  const T = c.seqLen;
  if (train.length < T + 2)
    throw new Error(`targetChars: ${train.length} tokens are too few for windows of ${T}`);
  const B = c.batchSize;
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  return {
    name: 'lm',
    maxSeqLen: T,
    describe: `causal LM on ${c.targetCorpus}: ${train.length} train, ${validation.length} validation, ${test.length} test tokens (base tokenizer)`,
    batch(rng) {
      for (let b = 0; b < B; b++) {
        const at = rng.int(train.length - T - 1);
        tokens.set(train.subarray(at, at + T), b * T);
        targets.set(train.subarray(at + 1, at + T + 1), b * T);
      }
      return { tokens, targets, B, T };
    },
    evaluator(model) {
      const ev = new LanguageModelEvaluation(model, { validation, test }, { seqLen: T, batchSize: B });
      const wrap = (p: { nll: number; perplexity: number }): Evaluation => ({
        loss: p.nll,
        perplexity: p.perplexity,
        accuracy: null,
      });
      return { validation: () => wrap(ev.validation()), test: () => wrap(ev.test()) };
    },
  };
}

interface Example {
  prompt: number[];
  label: number;
}

/** Sequences (B, T) of prompt + answer, right-padded; targets only where the answer's tokens are predicted. */
function answerBatch(items: Example[], answers: number[][], answerOf: (e: Example) => number): Batch {
  const B = items.length;
  const T = Math.max(...items.map((e) => e.prompt.length + answers[answerOf(e)].length - 1));
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(IGNORE);
  items.forEach((e, b) => {
    const seq = [...e.prompt, ...answers[answerOf(e)]];
    for (let t = 0; t < seq.length - 1; t++) {
      tokens[b * T + t] = seq[t];
      if (t >= e.prompt.length - 1) targets[b * T + t] = seq[t + 1];
    }
  });
  return { tokens, targets, B, T };
}

/** Σ log p(target) per row over the rows' target positions, from the model's last logits (B·T, V). */
function rowLogProbs(model: Transformer, batch: Batch): Float64Array {
  const V = model.config.vocabSize;
  const logits = model.logits!;
  const out = new Float64Array(batch.B);
  for (let b = 0; b < batch.B; b++)
    for (let t = 0; t < batch.T; t++) {
      const y = batch.targets[b * batch.T + t];
      if (y === IGNORE) continue;
      const o = (b * batch.T + t) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v];
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - max);
      out[b] += logits[o + y] - max - Math.log(s);
    }
  return out;
}

/** log p(first token of class k | prompt) for every row, from the logits of a forward over `batch`. */
function firstTokenLogProbs(
  model: Transformer,
  batch: Batch,
  rows: Example[],
  firsts: number[],
): Float64Array[] {
  const V = model.config.vocabSize;
  const logits = model.logits!;
  const out = firsts.map(() => new Float64Array(rows.length));
  rows.forEach((e, b) => {
    const o = (b * batch.T + e.prompt.length - 1) * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v];
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v] - max);
    firsts.forEach((t, k) => (out[k][b] = logits[o + t] - max - Math.log(s)));
  });
  return out;
}

export async function classificationTask(c: QthaConfig, tok: Tokenizer): Promise<AdaptTask> {
  const data = await loadTextData({
    dataset: c.dataset,
    textColumn: 'text',
    labelColumn: 'label',
    dataSeed: c.dataSeed,
    samplesPerClass: c.samplesPerClass,
  });
  const answers = data.classes.map((name) => tok.encode(` ${name}`));
  const head = tok.encode('Classify:');
  const tail = tok.encode('\nAnswer:');
  const split = {} as Record<SplitName, Example[]>;
  for (const s of SPLIT_NAMES)
    split[s] = data.splits[s].map((x) => ({
      prompt: [...head, ...tok.encode(` ${x.text}`).slice(0, c.promptTokens), ...tail],
      label: x.label,
    }));
  const maxSeqLen = head.length + c.promptTokens + tail.length + Math.max(...answers.map((a) => a.length));
  const firsts = answers.map((a) => a[0]);
  const firstTokenScores = new Set(firsts).size === firsts.length;
  const evalOn = (model: Transformer, items: Example[]): Evaluation => {
    const C = answers.length;
    let nll = 0;
    let count = 0;
    let right = 0;
    for (let a = 0; a < items.length; a += c.batchSize) {
      const rows = items.slice(a, a + c.batchSize);
      // the loss: the true label word's tokens; the scores: each class's first token (or whole word)
      const truth = answerBatch(rows, answers, (e) => e.label);
      model.lmForward(truth.tokens, truth.B, truth.T);
      const truthLp = rowLogProbs(model, truth);
      const scores = firstTokenScores
        ? firstTokenLogProbs(model, truth, rows, firsts)
        : Array.from({ length: C }, (_, k) => {
            const batch = answerBatch(rows, answers, () => k);
            model.lmForward(batch.tokens, batch.B, batch.T);
            return rowLogProbs(model, batch);
          });
      rows.forEach((e, b) => {
        let best = 0;
        for (let k = 1; k < C; k++) if (scores[k][b] > scores[best][b]) best = k;
        if (best === e.label) right++;
        nll -= truthLp[b];
        count += answers[e.label].length;
      });
    }
    const loss = nll / Math.max(1, count);
    return { loss, perplexity: Math.exp(loss), accuracy: right / Math.max(1, items.length) };
  };
  return {
    name: 'classification',
    maxSeqLen,
    describe: `${c.dataset} as prompt + label word, scored by ${firstTokenScores ? 'its first token' : 'the whole word'} (${data.classes.map((n, k) => `${n}: ${answers[k].length} token(s)`).join(', ')}): ${split.train.length} train, ${split.validation.length} validation, ${split.test.length} test texts`,
    batch(rng) {
      const rows = Array.from({ length: c.batchSize }, () => split.train[rng.int(split.train.length)]);
      return answerBatch(rows, answers, (e) => e.label);
    },
    evaluator(model) {
      let testRead = false;
      return {
        validation: () => evalOn(model, split.validation),
        test: () => {
          if (testRead) throw new Error('the test split was already evaluated for this model');
          testRead = true;
          return evalOn(model, split.test);
        },
      };
    },
  };
}

export async function buildTask(c: QthaConfig, tok: Tokenizer): Promise<AdaptTask> {
  return c.task === 'lm' ? lmTask(c, tok) : classificationTask(c, tok);
}
