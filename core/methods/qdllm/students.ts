// The students QD-LLM trains against its frozen teacher, each behind one small interface:
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
import { CircuitBuilder, type Circuit } from '../../quantum/circuit';
import {
  angleEncoding,
  minMaxRescaleBackward,
  minMaxRescaleForward,
  type MinMax,
} from '../../quantum/encodings';
import { qdllmAnsatz } from '../../quantum/templates';
import type { SplitName } from '../../data/names';
import { MlpClassifier } from '../../nn/mlp';
import { padBatch, TransformerClassifier } from '../../nn/text-classifier';
import type { TeacherSplit } from './cache';

/** Trainable angles of L QD-LLM ansatz layers on n qubits: RZ-RY-RZ (3n), RZZ chain (n − 1), RZ-RY-RZ (3n). */
export function qdllmAnsatzParamCount(n: number, L: number): number {
  return L * (7 * n - 1);
}

/** Trainable parameters of the quantum student: (E·n + n) + L(7n − 1) + (n·C + C). */
export function qdllmStudentParamCount(E: number, n: number, L: number, C: number): number {
  return E * n + n + qdllmAnsatzParamCount(n, L) + n * C + C;
}

/** RX(x_i) on qubit i, then L ansatz layers; the observables default to ⟨Z_i⟩ on every qubit. */
export function qdllmStudentCircuit(n: number, L: number): Circuit {
  const b = new CircuitBuilder(n, n);
  angleEncoding(
    b,
    Array.from({ length: n }, (_, i) => i),
    'RX',
  );
  qdllmAnsatz(b, L);
  return b.build();
}

export interface Student {
  /** Metric-key prefix: quantum, mlp, transformer, quantum-ce… */
  name: string;
  /** Row label in the report. */
  label: string;
  params: Parameter[];
  /** Logits (B, C) for rows of a split. */
  forward(rows: Int32Array, split: SplitName): Promise<Float64Array>;
  /** Adds ∂L/∂θ into the parameters from ∂L/∂logits of the last forward. */
  backward(dlogits: Float64Array): Promise<void>;
}

export type StudentData = Record<SplitName, TeacherSplit>;

function gatherRows(src: Float64Array, width: number, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * width);
  for (let i = 0; i < rows.length; i++)
    out.set(src.subarray(rows[i] * width, (rows[i] + 1) * width), i * width);
  return out;
}

export class QuantumStudent {
  readonly down: Linear; // E → n
  readonly q: QuantumLayer;
  readonly head: Linear; // n → C
  private x: Float64Array = new Float64Array(0); // (B, E)
  private z: Float64Array = new Float64Array(0); // (B, n) before rescaling
  private mm: MinMax | null = null;
  private ev: Float64Array = new Float64Array(0); // (B, n) ⟨Z⟩
  private B = 0;

  constructor(
    readonly E: number,
    readonly n: number,
    readonly L: number,
    readonly C: number,
    readonly scale: number,
    sim: Simulator,
    seed: number,
  ) {
    this.down = new Linear('quantum.down', E, n, { bias: true, dtype: 'f64' });
    this.head = new Linear('quantum.head', n, C, { bias: true, dtype: 'f64' });
    const rng = new Rng(seed);
    rng.fillNormal(this.down.weight.data, 1 / Math.sqrt(E));
    rng.fillNormal(this.head.weight.data, 1 / Math.sqrt(n));
    this.q = new QuantumLayer('quantum.pqc', qdllmStudentCircuit(n, L), sim, {
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
    this.z = new Float64Array(B * n);
    this.down.forward(this.z, x, B);
    this.mm = minMaxRescaleForward(this.z, B, n, this.scale);
    this.ev = await this.q.forward(this.mm.y, B);
    const out = new Float64Array(B * this.C);
    this.head.forward(out, this.ev, B);
    return out;
  }

  async backward(dlogits: Float64Array): Promise<void> {
    const { B, n } = this;
    if (!this.mm) throw new Error('QuantumStudent.backward: call forward first');
    const dev = new Float64Array(B * n);
    this.head.backward(dev, dlogits, this.ev, B);
    const dy = await this.q.backward(dev);
    const dz = minMaxRescaleBackward(this.z, this.mm, dy, B, n, this.scale);
    this.down.backward(null, dz, this.x, B);
  }
}

export function quantumStudent(
  data: StudentData,
  cfg: { qubits: number; layers: number; scale: number },
  E: number,
  C: number,
  sim: Simulator,
  seed: number,
  name = 'quantum',
): Student {
  const m = new QuantumStudent(E, cfg.qubits, cfg.layers, C, cfg.scale, sim, seed);
  return {
    name,
    label: `QD-LLM quantum student (${cfg.qubits} qubits × ${cfg.layers} layers)`,
    params: m.parameters(),
    forward: (rows, split) => m.forward(gatherRows(data[split].embeddings, E, rows), rows.length),
    backward: (d) => m.backward(d),
  };
}

export function mlpStudent(data: StudentData, E: number, hidden: number, C: number, seed: number): Student {
  const m = new MlpClassifier(E, hidden, C, seed, 'mlp');
  return {
    name: 'mlp',
    label: `MLP student ${E}-${hidden}-${C} (GELU)`,
    params: m.parameters(),
    forward: async (rows, split) => m.forward(gatherRows(data[split].embeddings, E, rows), rows.length),
    backward: async (d) => m.backward(d),
  };
}

export interface TransformerStudentConfig {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
}

export function transformerStudent(
  data: StudentData,
  ts: TransformerStudentConfig,
  vocabSize: number,
  maxTokens: number,
  C: number,
  seed: number,
): Student {
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
    name: 'transformer',
    label: `Transformer student ${ts.layers}×${ts.hiddenSize} (${ts.heads} heads)`,
    params: clf.parameters(),
    forward: async (rows, split) => clf.forward(padBatch(data[split].tokens, rows)),
    backward: async (d) => clf.backward(d),
  };
}
