// The smallest job configs that still run every stage of a kind (a pretrained teacher or encoder, quantum and
// classical students, reports), shared so the unit, GGUF and build tests run the same tiny models. They are raw
// configs, before the schema fills defaults: parse them (unit tests) or send them to the lab as they are.
import type { z } from 'zod';
import type { QdllmConfigSchema } from '../../core/methods/qdllm/schema';
import type { QheadConfigSchema } from '../../core/methods/qhead/schema';
import type { SimBenchConfigSchema } from '../../core/methods/sim-bench/schema';

export type QdllmInput = z.input<typeof QdllmConfigSchema>;
export type QheadInput = z.input<typeof QheadConfigSchema>;
export type SimBenchInput = z.input<typeof SimBenchConfigSchema>;

/** A 1-layer, 16-wide lab-transformer teacher on a 300-token BPE vocabulary, pretrained `pretrainSteps` steps. */
export function tinyLabTeacher(pretrainSteps: number) {
  return {
    source: 'lab-transformer' as const,
    corpusChars: 20_000,
    vocabSize: 300,
    hiddenSize: 16,
    layers: 1,
    heads: 2,
    intermediateSize: 32,
    pretrainSteps,
    pretrainSeqLen: 16,
    finetuneEpochs: 1,
  };
}

/** The classical transformer student at its smallest: 1 layer, 8 wide. */
export const TINY_TRANSFORMER_STUDENT = { hiddenSize: 8, layers: 1, heads: 2, intermediateSize: 16 };

/**
 * qdllm with 20 samples per class, 16 tokens, a 2-qubit × 1-layer student, 1 epoch, 2 seeds, the tiny teacher
 * pretrained 8 steps and the tiny transformer student; `over` replaces whole top-level fields.
 */
export function tinyQdllm(over: QdllmInput = {}): QdllmInput {
  return {
    samplesPerClass: 20,
    maxTokens: 16,
    qubits: 2,
    layers: 1,
    epochs: 1,
    seeds: 2,
    teacher: tinyLabTeacher(8),
    transformerStudent: TINY_TRANSFORMER_STUDENT,
    ...over,
  };
}

/**
 * qhead on 12 train / 8 test texts with a 1-layer, 16-wide encoder pretrained 3 steps, a `qubits`-wide head
 * (depth 1, final depth 1, 2 re-uploads), 2 epochs, 2 seeds; `over` replaces whole top-level fields.
 */
export function tinyQhead(qubits: number, over: QheadInput = {}): QheadInput {
  return {
    maxTrain: 12,
    maxTest: 8,
    encoder: {
      type: 'pretrain',
      corpusChars: 20_000,
      vocabSize: 300,
      hiddenSize: 16,
      intermediateSize: 32,
      layers: 1,
      heads: 2,
      seqLen: 16,
      steps: 3,
      batchSize: 2,
      maxTokens: 32,
    },
    head: { qubits, depth: 1, finalDepth: 1, reuploads: 2 },
    epochs: 2,
    batchSize: 4,
    seeds: 2,
    ...over,
  };
}

/** sim-bench at 8 qubits, batch 128, one repeat, on 2 simulator threads, without the PyTorch peer. */
export function tinySimBench(over: SimBenchInput = {}): SimBenchInput {
  return {
    largeQubits: [8],
    largeGates: 8,
    qmlBatch: 128,
    qdllmBatches: [128],
    qdllmLayers: 2,
    qffnBatch: 128,
    qffnDepth: 2,
    parameterShift: false,
    threads: 2,
    peer: false,
    repeats: 1,
    ...over,
  };
}

/** A two-class CSV (text,label) a tiny qhead run trains on from a dataset file: `n` rows, sky and money. */
export function tinyQheadCsv(n = 40): string {
  const rows = Array.from(
    { length: n },
    (_, i) => `${i % 2 ? 'the stars shine' : 'the market fell'} ${i},${i % 2 ? 'sky' : 'money'}`,
  );
  return `text,label\n${rows.join('\n')}\n`;
}
