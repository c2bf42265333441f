// The students QD-LLM trains against its frozen teacher, each a harness Classifier over rows of the teacher splits:
//   quantum:     frozen embedding → Linear(E → n) → min-max to [0, s] → RX encoding → L QD-LLM ansatz layers
//                → ⟨Z⟩ on every qubit → Linear(n → C)
//   mlp:         frozen embedding → Linear(E → h) → GELU → Linear(h → C), h matched to the quantum count
//   transformer: a small LLaMA-flavour transformer on the same tokens, mean-pooled, Linear head (the
//                DistilBERT/TinyBERT-style classical student, scaled to the lab)
import { Linear } from '../../nn/layers';
import { QuantumLayer } from '../../nn/quantum-layer';
import { Rng } from '../../util/rng';
import type { Parameter } from '../../nn/tensor';
import { Transformer } from '../../nn/transformer';
import type { Simulator } from '../../quantum/backend';
import { minMaxRescaleBackward, minMaxRescaleForward, type MinMax } from '../../quantum/encodings';
import type { SplitName } from '../../data/names';
import { MlpClassifier } from '../../nn/mlp';
import { featureClassifier, type Classifier } from '../harness/classifier';
import { padBatch, TransformerClassifier } from '../../nn/text-classifier';
import type { TeacherSplit } from './cache';
import { qdllmStudentCircuit, type QdllmAnsatz } from './circuit';

export type StudentData = Record<SplitName, TeacherSplit>;

export class QuantumStudent {
  readonly down: Linear; // E → n
  readonly q: QuantumLayer;
  readonly head: Linear; // n → C
  private x: Float64Array = new Float64Array(0); // (B, E)
  private z: Float64Array = new Float64Array(0); // (B, n) before rescaling
  private mm: MinMax | null = null;
  private ev: Float64Array = new Float64Array(0); // (B, n) ⟨Z⟩
  private out: Float64Array = new Float64Array(0); // (B, C)
  private dev: Float64Array = new Float64Array(0); // (B, n)
  private B = 0;

  constructor(
    readonly E: number,
    readonly n: number,
    readonly L: number,
    readonly C: number,
    readonly scale: number,
    sim: Simulator,
    seed: number,
    readonly ansatz: QdllmAnsatz = 'text',
  ) {
    this.down = new Linear('quantum.down', E, n, { bias: true, dtype: 'f64' });
    this.head = new Linear('quantum.head', n, C, { bias: true, dtype: 'f64' });
    const rng = new Rng(seed);
    rng.fillNormal(this.down.weight.data, 1 / Math.sqrt(E));
    rng.fillNormal(this.head.weight.data, 1 / Math.sqrt(n));
    this.q = new QuantumLayer('quantum.pqc', qdllmStudentCircuit(n, L, ansatz), sim, {
      seed: seed + 1,
      dtype: 'f64',
    });
  }

  parameters(): Parameter[] {
    return [...this.down.parameters(), ...this.q.parameters(), ...this.head.parameters()];
  }

  async forward(x: Float64Array, B: number): Promise<Float64Array> {
    const { n } = this;
    this.x = x;
    this.B = B;
    if (this.z.length !== B * n) {
      this.z = new Float64Array(B * n);
      this.dev = new Float64Array(B * n);
      this.out = new Float64Array(B * this.C);
    }
    this.down.forward(this.z, x, B);
    this.mm = minMaxRescaleForward(this.z, B, n, this.scale);
    this.ev = await this.q.forward(this.mm.y, B);
    this.head.forward(this.out, this.ev, B);
    return this.out;
  }

  async backward(dlogits: Float64Array): Promise<void> {
    const { B, n } = this;
    if (!this.mm) throw new Error('QuantumStudent.backward: call forward first');
    const dev = this.dev.fill(0);
    this.head.backward(dev, dlogits, this.ev, B);
    const dy = await this.q.backward(dev);
    const dz = minMaxRescaleBackward(this.z, this.mm, dy, B, n, this.scale);
    this.down.backward(null, dz, this.x, B);
  }
}

/** Each split's embeddings, read when asked (the test split stays sealed until the final evaluation). */
const embeddingsOf = (data: StudentData): Record<SplitName, Float64Array> => ({
  get train() {
    return data.train.embeddings;
  },
  get validation() {
    return data.validation.embeddings;
  },
  get test() {
    return data.test.embeddings;
  },
});

/** The quantum student on the teacher's frozen text embeddings (E per row). */
export function quantumStudent(
  data: StudentData,
  cfg: { qubits: number; layers: number; scale: number; ansatz?: QdllmAnsatz },
  E: number,
  C: number,
  sim: Simulator,
  seed: number,
): Classifier {
  const m = new QuantumStudent(E, cfg.qubits, cfg.layers, C, cfg.scale, sim, seed, cfg.ansatz);
  return featureClassifier(m, embeddingsOf(data), E);
}

/** The E → hidden → C GELU MLP student on the same embeddings. */
export function mlpStudent(
  data: StudentData,
  E: number,
  hidden: number,
  C: number,
  seed: number,
): Classifier {
  return featureClassifier(new MlpClassifier(E, hidden, C, seed, 'mlp'), embeddingsOf(data), E);
}

export interface TransformerStudentConfig {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
}

/** A small transformer trained from scratch on the texts' token ids (the teacher's tokenizer). */
export function transformerStudent(
  data: StudentData,
  ts: TransformerStudentConfig,
  vocabSize: number,
  maxTokens: number,
  C: number,
  seed: number,
): Classifier {
  const model = new Transformer(
    {
      flavour: 'llama',
      vocabSize,
      hiddenSize: ts.hiddenSize,
      intermediateSize: ts.intermediateSize,
      numLayers: ts.layers,
      numHeads: ts.heads,
      maxSeqLen: maxTokens,
      tieEmbeddings: true,
    },
    { seed, dtype: 'f32' },
  );
  const clf = new TransformerClassifier(model, C, 'mean', seed + 1, 'transformer');
  return {
    parameters: () => clf.parameters(),
    forward: (rows, split) => clf.forward(padBatch(data[split].tokens, rows)),
    backward: (d) => clf.backward(d),
  };
}
