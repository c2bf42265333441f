// What QD-LLM hands the comparison harness: the distillation loss against the teacher's cached logits, and
// the students (quantum, its loss-ablation variants, the matched MLP, the transformer) as model specs.
import {
  distillLossBackward,
  distillLossForward,
  DISTILL_MODES,
  type DistillMode,
} from '../../nn/distill-loss';
import type { Simulator } from '../../quantum/backend';
import { grow, type ClassifierLoss } from '../harness/classifier';
import type { SeedPlan } from '../harness/compare';
import type { ModelSpec } from '../harness/fit';
import { lrCandidates } from '../harness/tuning';
import type { QdllmConfig } from './schema';
import { mlpStudent, quantumStudent, transformerStudent, type StudentData } from './students';

/** (1 − α)·CE + α·(T²·KL + JS) (or one term, by mode) of the student's logits against the teacher's rows. */
export function distillationLoss(
  data: StudentData,
  C: number,
  o: { alpha: number; temperature: number; mode: DistillMode },
): ClassifierLoss {
  let teacher: Float64Array = new Float64Array(0); // (B, C)
  return {
    evaluate(logits, rows, split, labels, dlogits) {
      const B = rows.length;
      // the loss reads only the first B rows, so the buffer may be longer
      const t = (teacher = grow(teacher, B * C));
      const src = data[split].logits;
      for (let i = 0; i < B; i++) for (let c = 0; c < C; c++) t[i * C + c] = src[rows[i] * C + c];
      const { loss } = distillLossForward(logits, t, labels, B, C, o);
      if (dlogits) {
        dlogits.fill(0);
        distillLossBackward(dlogits, logits, t, labels, B, C, o);
      }
      return loss;
    },
  };
}

/**
 * Seeds as QD-LLM drew them before the harness, so seeded runs reproduce: repetition k's base is
 * run seed + 1000·k; model m starts from base + 17·m; the batch order is the quantum student's stream.
 */
export function qdllmSeedPlan(runSeed: number): SeedPlan {
  const base = (k: number) => (runSeed + 1000 * k) >>> 0;
  return { order: (k) => base(k) ^ 0x9e3779b9, init: (k, m) => (base(k) + 17 * m) >>> 0 };
}

export interface StudentContext {
  data: StudentData;
  E: number;
  C: number;
  vocabSize: number;
  sim: Simulator;
  /** Hidden width of the MLP matched to the quantum student's parameter count. */
  hidden: number;
}

/** The quantum student (and, with `ablation`, one per other loss mode), the MLP and the transformer student. */
export function studentSpecs(cfg: QdllmConfig, s: StudentContext): ModelSpec[] {
  const loss = (mode: DistillMode) =>
    distillationLoss(s.data, s.C, { alpha: cfg.alpha, temperature: cfg.temperature, mode });
  const quantumLabel = `QD-LLM quantum student (${cfg.qubits} qubits × ${cfg.layers} layers, ${cfg.ansatz === 'authors' ? "authors' ansatz" : "text's ansatz"})`;
  const quantum = (key: string, mode: DistillMode, label: string): ModelSpec => ({
    key,
    label,
    lrs: lrCandidates(cfg.lr, cfg.lrFactors),
    loss: loss(mode),
    build: (seed) => quantumStudent(s.data, cfg, s.E, s.C, s.sim, seed),
  });
  const specs = [quantum('quantum', cfg.loss, quantumLabel)];
  if (cfg.ablation)
    for (const m of DISTILL_MODES.filter((m) => m !== cfg.loss))
      specs.push(quantum(`quantum-${m}`, m, `${quantumLabel}, loss ${m} only`));
  if (cfg.mlp.enabled)
    specs.push({
      key: 'mlp',
      label: `MLP student ${s.E}-${s.hidden}-${s.C} (GELU)`,
      lrs: lrCandidates(cfg.mlp.lr, cfg.lrFactors),
      loss: loss(cfg.loss),
      build: (seed) => mlpStudent(s.data, s.E, s.hidden, s.C, seed),
    });
  const ts = cfg.transformerStudent;
  if (ts.enabled)
    specs.push({
      key: 'transformer',
      label: `Transformer student ${ts.layers}×${ts.hiddenSize} (${ts.heads} heads)`,
      lrs: lrCandidates(ts.lr, cfg.lrFactors),
      loss: loss(cfg.loss),
      build: (seed) => transformerStudent(s.data, ts, s.vocabSize, cfg.maxTokens, s.C, seed),
    });
  return specs;
}
