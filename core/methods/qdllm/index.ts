// The `qdllm` job kind: QD-LLM quantum knowledge distillation (arXiv 2505.13205). A frozen LM teacher's
// class logits guide a ~11-qubit quantum student through (1 − α)·CE + α·(T²·KL + JS); a matched-size MLP
// student and a small transformer student learn from the same teacher with the same loss, data and epochs;
// everything is repeated over K seeds and reported as mean ± std beside the teacher itself.
import { createHash } from 'node:crypto';
import type { Parameter } from '../../nn/tensor';
import {
  argmaxRows,
  classificationReport,
  formatMeanStd,
  meanStd,
  type ClassificationReport,
} from '../harness/metrics';
import { loadTextData } from '../../data/text';
import { DISTILL_MODES, type DistillMode } from '../../nn/distill-loss';
import { mlpHiddenForParams } from '../../nn/mlp';
import { createSimulator, describeRan, ranRecord, recordingSimulator } from '../../quantum/simulators';
import { configureCompute } from '../harness/compute';
import type { JobContext, JobKind, JobResult, ReportSection } from '../job';
import { checkQubitsForClasses, QdllmConfigSchema, type QdllmConfig } from './schema';
import {
  mlpStudent,
  qdllmStudentParamCount,
  quantumStudent,
  transformerStudent,
  type Student,
} from './students';
import { teacherOutputs, type TeacherHooks } from './teacher';
import { trainStudent, type StudentResult } from './train';

export { QdllmConfigSchema, type QdllmConfig } from './schema';
export { qdllmAnsatzParamCount, qdllmStudentParamCount, qdllmStudentCircuit } from './students';

export interface QdllmHooks extends TeacherHooks {
  /** Called after every student has trained (before the report is built). */
  afterDistillation?(): void;
}

function fingerprint(params: Parameter[]): string {
  const h = createHash('sha256');
  for (const p of params) h.update(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  return h.digest('hex');
}

const r4 = (v: number) => Number(v.toFixed(4));
const ms = (values: number[], digits = 4) => formatMeanStd(values, digits);

function sci(values: number[]): string {
  const { mean, std } = meanStd(values);
  return `${mean.toExponential(3)} ± ${std.toExponential(2)}`;
}

interface ModelRows {
  label: string;
  results: StudentResult[];
}

function sumConfusion(reports: ClassificationReport[], C: number): number[][] {
  const out = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (const r of reports)
    for (let t = 0; t < C; t++) for (let p = 0; p < C; p++) out[t][p] += r.confusion[t][p];
  return out;
}

export async function runQdllm(
  cfg: QdllmConfig,
  ctx: JobContext,
  hooks: QdllmHooks = {},
): Promise<JobResult> {
  const threads = configureCompute();
  ctx.log('info', `classical core: matmul on ${threads} thread(s)`);
  const data = await loadTextData(cfg);
  const C = data.classes.length;
  checkQubitsForClasses(cfg.qubits, C, cfg.dataset);
  ctx.log(
    'info',
    `${cfg.dataset}: ${data.splits.train.length}/${data.splits.validation.length}/${data.splits.test.length} train/val/test, classes ${data.classes.join(', ')}`,
  );
  let teacherParams: Parameter[] | null = null;
  let before = '';
  const teacher = await teacherOutputs(cfg, data, ctx, {
    onTeacherBuilt(params) {
      teacherParams = params;
      before = fingerprint(params);
      hooks.onTeacherBuilt?.(params);
    },
  });
  const tdata = teacher.splits;
  const E = teacher.info.E;
  ctx.log('info', `teacher: ${teacher.info.description} (cache ${teacher.cache})`);

  const base = await createSimulator(cfg.backend, cfg.precision);
  const { sim, ran } = recordingSimulator(base);
  ctx.log('info', `quantum backend ${cfg.backend}, precision ${cfg.precision}`);

  const qCount = qdllmStudentParamCount(E, cfg.qubits, cfg.layers, C);
  const hidden = mlpHiddenForParams(qCount, E, C);
  const lossOf = (mode: DistillMode) => ({ alpha: cfg.alpha, temperature: cfg.temperature, mode });
  const ablationModes: DistillMode[] = cfg.ablation ? DISTILL_MODES.filter((m) => m !== cfg.loss) : [];
  type Plan = { make: (seed: number) => Student; lr: number; mode: DistillMode; key: string };
  const plans: Plan[] = [
    { key: 'quantum', lr: cfg.lr, mode: cfg.loss, make: (s) => quantumStudent(tdata, cfg, E, C, sim, s) },
  ];
  for (const m of ablationModes)
    plans.push({
      key: `quantum-${m}`,
      lr: cfg.lr,
      mode: m,
      make: (s) => {
        const st = quantumStudent(tdata, cfg, E, C, sim, s, `quantum-${m}`);
        return { ...st, label: `${st.label}, loss ${m} only` };
      },
    });
  if (cfg.mlp.enabled)
    plans.push({
      key: 'mlp',
      lr: cfg.mlp.lr,
      mode: cfg.loss,
      make: (s) => mlpStudent(tdata, E, hidden, C, s),
    });
  if (cfg.transformerStudent.enabled)
    plans.push({
      key: 'transformer',
      lr: cfg.transformerStudent.lr,
      mode: cfg.loss,
      make: (s) =>
        transformerStudent(tdata, cfg.transformerStudent, teacher.info.vocabSize, cfg.maxTokens, C, s),
    });

  const rows = new Map<string, ModelRows>();
  const steps = new Map<string, number>();
  const totalEpochs = plans.length * cfg.seeds * cfg.epochs;
  let epochsDone = 0;
  try {
    for (let k = 0; k < cfg.seeds; k++) {
      for (const [pi, plan] of plans.entries()) {
        const seed = (ctx.seed + 1000 * k + 17 * pi) >>> 0;
        const student = plan.make(seed);
        const res = await trainStudent(
          student,
          tdata,
          C,
          {
            epochs: cfg.epochs,
            batchSize: cfg.batchSize,
            lr: plan.lr,
            loss: lossOf(plan.mode),
            seed,
            seedIndex: k,
            stepBase: steps.get(plan.key) ?? 0,
            onEpoch: () => {
              epochsDone++;
              ctx.progress(
                0.25 + 0.75 * (epochsDone / totalEpochs),
                `seed ${k + 1}/${cfg.seeds}: ${plan.key}`,
              );
            },
          },
          ctx,
        );
        steps.set(plan.key, (steps.get(plan.key) ?? 0) + res.steps);
        const entry = rows.get(plan.key) ?? { label: student.label, results: [] };
        entry.results.push(res);
        rows.set(plan.key, entry);
      }
    }
  } finally {
    sim.dispose();
  }
  if (ran.size) ctx.log('info', `quantum circuits ran on ${describeRan(ran)}`);
  hooks.afterDistillation?.();
  let teacherFrozen = 'not loaded (outputs read from the cache)';
  if (teacherParams) {
    if (fingerprint(teacherParams) !== before) throw new Error('the teacher changed during distillation');
    teacherFrozen = 'verified (weights bit-identical after distillation)';
  }
  const result = buildReport(
    cfg,
    data.classes,
    teacher,
    rows,
    qCount,
    hidden,
    teacherFrozen,
    describeRan(ran),
  );
  return { ...result, backend: ranRecord(ran, sim.info) };
}

function buildReport(
  cfg: QdllmConfig,
  classes: string[],
  teacher: Awaited<ReturnType<typeof teacherOutputs>>,
  rows: Map<string, ModelRows>,
  qCount: number,
  hidden: number,
  teacherFrozen: string,
  simulation: string,
): JobResult {
  const C = classes.length;
  const test = teacher.splits.test;
  const tReport = classificationReport(test.labels, argmaxRows(test.logits, test.labels.length, C), C);
  const info = teacher.info;
  const refT = rows.get('transformer')?.results[0]?.params ?? null;
  const refM = rows.get('mlp')?.results[0]?.params ?? null;
  const pct = (p: number | null, ref: number | null) =>
    p === null || ref === null ? null : `${((100 * p) / ref).toFixed(3)}%`;
  const columns = [
    'model',
    'trainable params',
    'params vs transformer student',
    'params vs MLP student',
    'accuracy',
    'precision (macro)',
    'recall (macro)',
    'F1 (macro)',
    'precision (weighted)',
    'recall (weighted)',
    'F1 (weighted)',
    'Acc/Param',
    'T_kd (s)',
    'Acc/T_kd (1/s)',
    'train time / epoch (s)',
    'inference / sample (ms)',
    'peak RSS (MiB)',
    'peak heap (MiB)',
  ];
  const table: (string | number | null)[][] = [
    [
      `Teacher (${info.params ?? 'unknown'} parameters; trainable = LoRA + head): ${info.description}`,
      info.trainableParams,
      pct(info.params, refT),
      pct(info.params, refM),
      r4(tReport.accuracy),
      r4(tReport.precision.macro),
      r4(tReport.recall.macro),
      r4(tReport.f1.macro),
      r4(tReport.precision.weighted),
      r4(tReport.recall.weighted),
      r4(tReport.f1.weighted),
      info.params ? Number((tReport.accuracy / info.params).toExponential(3)) : null,
      null,
      null,
      info.finetuneEpochs > 0 ? r4(info.buildSeconds / info.finetuneEpochs) : null,
      r4(1000 * info.inferSecondsPerSample),
      r4(info.peakRssMb),
      r4(info.peakHeapMb),
    ],
  ];
  const summary: Record<string, number | string> = {
    teacher_test_acc: tReport.accuracy,
    teacher_f1_macro: tReport.f1.macro,
    teacher_cache: teacher.cache,
    teacher_frozen: teacherFrozen,
    quantum_params_formula: qCount,
    simulator: simulation,
  };
  for (const [key, m] of rows) {
    const rs = m.results;
    const acc = rs.map((r) => r.report.accuracy);
    const p = rs[0].params;
    table.push([
      m.label,
      p,
      pct(p, refT),
      pct(p, refM),
      ms(acc),
      ms(rs.map((r) => r.report.precision.macro)),
      ms(rs.map((r) => r.report.recall.macro)),
      ms(rs.map((r) => r.report.f1.macro)),
      ms(rs.map((r) => r.report.precision.weighted)),
      ms(rs.map((r) => r.report.recall.weighted)),
      ms(rs.map((r) => r.report.f1.weighted)),
      sci(rs.map((r) => r.report.accuracy / r.params)),
      ms(
        rs.map((r) => r.trainSeconds),
        2,
      ),
      sci(rs.map((r) => r.report.accuracy / r.trainSeconds)),
      ms(
        rs.map((r) => r.epochSeconds),
        3,
      ),
      ms(
        rs.map((r) => 1000 * r.inferSecondsPerSample),
        4,
      ),
      ms(
        rs.map((r) => r.peakRssMb),
        1,
      ),
      ms(
        rs.map((r) => r.peakHeapMb),
        1,
      ),
    ]);
    const k = key.replace(/-/g, '_');
    summary[`${k}_test_acc`] = meanStd(acc).mean;
    summary[`${k}_test_acc_std`] = meanStd(acc).std;
    summary[`${k}_f1_macro`] = meanStd(rs.map((r) => r.report.f1.macro)).mean;
    summary[`${k}_params`] = p;
    summary[`${k}_train_seconds`] = meanStd(rs.map((r) => r.trainSeconds)).mean;
    summary[`${k}_infer_ms_per_sample`] = meanStd(rs.map((r) => 1000 * r.inferSecondsPerSample)).mean;
  }
  const report: ReportSection[] = [
    {
      type: 'table',
      title: `QD-LLM on ${cfg.dataset}: test metrics, mean ± std over ${cfg.seeds} seed(s) (teacher: one frozen model)`,
      columns,
      rows: table,
    },
  ];
  const cmRows: (string | number | null)[][] = [];
  const addCm = (label: string, conf: number[][]) =>
    conf.forEach((row, t) => cmRows.push([label, classes[t], ...row]));
  addCm('Teacher', tReport.confusion);
  for (const m of rows.values())
    addCm(
      m.label,
      sumConfusion(
        m.results.map((r) => r.report),
        C,
      ),
    );
  report.push({
    type: 'table',
    title: `Confusion matrices on the test split (rows: true class; students summed over ${cfg.seeds} seed(s))`,
    columns: ['model', 'true class', ...classes.map((c) => `predicted ${c}`)],
    rows: cmRows,
  });
  if (cfg.ablation) {
    const abl: (string | number | null)[][] = [];
    for (const mode of DISTILL_MODES) {
      const key = mode === cfg.loss ? 'quantum' : `quantum-${mode}`;
      const rs = rows.get(key)?.results;
      if (!rs) continue;
      abl.push([
        { ce: 'CE', kl: 'T²·KL', js: 'JS', all: `(1−α)CE + α(T²KL + JS), α = ${cfg.alpha}` }[mode],
        ms(rs.map((r) => r.report.accuracy)),
        ms(rs.map((r) => r.report.precision.macro)),
        ms(rs.map((r) => r.report.recall.macro)),
        ms(rs.map((r) => r.report.f1.macro)),
      ]);
    }
    report.push({
      type: 'table',
      title: `Loss ablation of the quantum student (T = ${cfg.temperature}), mean ± std over ${cfg.seeds} seed(s)`,
      columns: ['loss', 'accuracy', 'precision (macro)', 'recall (macro)', 'F1 (macro)'],
      rows: abl,
    });
  }
  const s = teacher.splits;
  report.push({
    type: 'text',
    title: 'Setup',
    text: [
      `Data: ${cfg.dataset}, ${s.train.labels.length}/${s.validation.labels.length}/${s.test.labels.length} train/validation/test (6:2:2, class-balanced${cfg.samplesPerClass !== null ? `, cut to ${cfg.samplesPerClass} per class` : ''}), first ${cfg.maxTokens} tokens of each text.`,
      `Teacher: ${info.description}. Outputs ${teacher.cache === 'hit' ? 'read from the lab cache' : 'computed and cached'} (key ${teacher.key.slice(0, 12)}); frozen: ${teacherFrozen}.`,
      `Student embedding: ${cfg.embedding === 'tokens' ? "mean of the teacher's token embeddings" : "mean of the teacher's final hidden states"}, E = ${info.E}.`,
      `Quantum student: Linear(${info.E}→${cfg.qubits}) → min-max to [0, ${cfg.scale}] → RX → ${cfg.layers} QD-LLM ansatz layers → ⟨Z⟩ × ${cfg.qubits} → Linear(${cfg.qubits}→${C}); E·n + n + L(7n−1) + n·C + C = ${qCount} trainable parameters.`,
      `Simulation: ${simulation || 'no circuit ran'}; ${cfg.precision === 'f32' ? 'complex64 amplitudes (f32)' : 'complex128 amplitudes (f64, reference)'}, adjoint gradients.`,
      `MLP student: ${info.E}-${hidden}-${C} (hidden width chosen to match the quantum count). Transformer student: ${cfg.transformerStudent.layers} layers × ${cfg.transformerStudent.hiddenSize}, same tokens as the teacher.`,
      `Loss ${cfg.loss}: (1 − α)·CE + α·(T²·KL(teacher‖student) + JS), α = ${cfg.alpha}, T = ${cfg.temperature}. Adam, ${cfg.epochs} epochs, batch ${cfg.batchSize}; lr ${cfg.lr} (quantum), ${cfg.mlp.lr} (MLP), ${cfg.transformerStudent.lr} (transformer). Test metrics after the last epoch.`,
      'T_kd is the distillation (training) time of a student; memory figures are whole-process peaks sampled while that model ran.',
    ].join('\n'),
  });
  return { summary, report };
}

export const qdllmKind: JobKind<QdllmConfig> = {
  kind: 'qdllm',
  title: 'QD-LLM quantum knowledge distillation',
  description:
    'Distils a frozen language-model teacher (a LoRA-fine-tuned lab transformer or a GGUF model) into an ~11-qubit quantum student, beside a parameter-matched MLP student and a small transformer student trained with the same loss; accuracy, P/R/F1, parameters, time and memory as mean ± std over seeds.',
  schema: QdllmConfigSchema as unknown as JobKind<QdllmConfig>['schema'],
  defaults: QdllmConfigSchema.parse({}),
  run: (cfg, ctx) => runQdllm(cfg, ctx),
};
