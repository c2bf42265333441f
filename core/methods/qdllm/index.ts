// The `qdllm` job kind: QD-LLM quantum knowledge distillation (arXiv 2505.13205). A frozen LM teacher's
// class logits guide a ~11-qubit quantum student through (1 − α)·CE + α·(T²·KL + JS); a matched-size MLP
// student and a small transformer student learn from the same teacher with the same loss, data and schedule
// on the comparison harness (validation-selected, test read once), reported beside the teacher itself.
import { createHash } from 'node:crypto';
import type { Parameter } from '../../nn/tensor';
import { argmaxRows, classificationReport, formatMeanStd } from '../harness/metrics';
import { wilsonInterval } from '../harness/stats';
import { loadTextData } from '../../data/text';
import { DISTILL_MODES } from '../../nn/distill-loss';
import { mlpHiddenForParams } from '../../nn/param-counts';
import { createSimulator, describeRan, ranRecord, recordingSimulator } from '../../quantum/simulators';
import { sealTest, TestGate } from '../harness/classifier';
import { configureCompute } from '../harness/compute';
import { runComparison, type Comparison, type SeedRun } from '../harness/compare';
import { repetitionReport, runRepetitions } from '../harness/vary';
import { bagOfWordsReference, describeBow, type BowResult } from '../harness/bow';
import { describeDedup, describeOverlap, overlapTotal } from '../../data/dedup';
import type { TextData } from '../../data/text';
import type { SplitName } from '../../data/names';
import {
  comparisonSummary,
  confusionTable,
  pairedItemTable,
  pairedTestTable,
  predictionsCsv,
  singleModelCells,
  resultsTable,
  sciColumn,
  selectionText,
  summedConfusions,
  type Cell,
  type Column,
} from '../harness/report';
import { defineJobKind, type JobContext, type JobResult, type ReportSection } from '../job';
import { checkQubitsForClasses, type QdllmConfig } from './schema';
import { qdllmMeta } from './meta';
import { describeAnsatz, qdllmStudentParamCount } from './circuit';
import { teacherOutputs, type TeacherHooks, type TeacherOutputs } from './teacher';
import { qdllmSeedPlan, studentSpecs } from './train';

export { QdllmConfigSchema, type QdllmConfig } from './schema';
export { qdllmAnsatzParamCount, qdllmStudentParamCount, qdllmStudentCircuit, QDLLM_ANSATZE } from './circuit';

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

export async function runQdllm(
  cfg: QdllmConfig,
  ctx: JobContext,
  hooks: QdllmHooks = {},
): Promise<JobResult> {
  return cfg.vary.length ? runVaried(cfg, ctx, hooks) : runOnce(cfg, ctx, hooks);
}

/**
 * `vary`: repetition k is a whole one-seed run with its own split (dataSeed + k) and/or its own teacher
 * (teacher seed + k), on the seed stream of repetition k (harness/vary.ts: run seed + 1000·k, the seed plan's
 * stride); the report puts the repetitions side by side (repetitionReport).
 */
async function runVaried(cfg: QdllmConfig, ctx: JobContext, hooks: QdllmHooks): Promise<JobResult> {
  const K = cfg.seeds;
  const split = cfg.vary.includes('split');
  const teacher = cfg.vary.includes('teacher') && cfg.teacher.source === 'lab-transformer';
  const runs = await runRepetitions(ctx, K, (k, ctxK) =>
    runOnce(
      {
        ...cfg,
        seeds: 1,
        vary: [],
        dataSeed: cfg.dataSeed + (split ? k : 0),
        teacher:
          teacher && cfg.teacher.source === 'lab-transformer'
            ? { ...cfg.teacher, seed: cfg.teacher.seed + k }
            : cfg.teacher,
      },
      ctxK,
      hooks,
    ),
  );
  const details = [
    split ? `Split seeds ${cfg.dataSeed}…${cfg.dataSeed + K - 1}.` : '',
    teacher && cfg.teacher.source === 'lab-transformer'
      ? `Teacher seeds ${cfg.teacher.seed}…${cfg.teacher.seed + K - 1}.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  const result = repetitionReport(runs, {
    models: ['bow', 'teacher', 'quantum', 'mlp', 'transformer'],
    reference: 'quantum',
    referenceLabel: 'the quantum student',
    varied: ['student initialisation', 'batch order', ...cfg.vary],
    what: cfg.vary.join(' and '),
    details,
  });
  result.summary.ansatz = cfg.ansatz;
  return result;
}

async function runOnce(cfg: QdllmConfig, ctx: JobContext, hooks: QdllmHooks): Promise<JobResult> {
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
  // the students reach the test rows only through the comparison's final evaluation
  const gate = new TestGate();
  const tdata = sealTest(teacher.splits, gate, 'qdllm students');
  const E = teacher.info.E;
  ctx.log('info', `teacher: ${teacher.info.description} (cache ${teacher.cache})`);

  const base = await createSimulator(cfg.backend, cfg.precision);
  const { sim, ran } = recordingSimulator(base);
  ctx.log('info', `quantum backend ${cfg.backend}, precision ${cfg.precision}`);

  const qCount = qdllmStudentParamCount(E, cfg.qubits, cfg.layers, C, cfg.ansatz);
  const hidden = mlpHiddenForParams(qCount, E, C);
  const specs = studentSpecs(cfg, { data: tdata, E, C, vocabSize: teacher.info.vocabSize, sim, hidden });
  let comparison: Comparison;
  try {
    comparison = await runComparison(
      specs,
      {
        classes: C,
        labels: sealTest(
          {
            train: teacher.splits.train.labels,
            validation: teacher.splits.validation.labels,
            test: teacher.splits.test.labels,
          },
          gate,
          'qdllm labels',
        ),
      },
      {
        epochs: cfg.epochs,
        batchSize: cfg.batchSize,
        seeds: cfg.seeds,
        plan: qdllmSeedPlan(ctx.seed),
        reference: 'quantum',
        gate,
      },
      {
        signal: ctx.signal,
        metrics: (points) => ctx.metrics(points),
        progress: (f, message) => ctx.progress(0.25 + 0.75 * f, message),
      },
    );
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
  // the simple reference on the same split, test read once here after every model's final evaluation
  // on exactly the input the models see: each text's first maxTokens teacher tokens, a token id per "word"
  const tokenTexts = (sp: TeacherOutputs['splits'][SplitName]) =>
    Array.from(sp.labels, (label, i) => ({
      label,
      text: Array.from(sp.tokens.ids.subarray(sp.tokens.offsets[i], sp.tokens.offsets[i + 1])).join(' '),
    }));
  const bow = bagOfWordsReference(
    { train: tokenTexts(teacher.splits.train), validation: tokenTexts(teacher.splits.validation) },
    () => tokenTexts(teacher.splits.test),
    C,
    {
      maxWords: null,
      unit: `the teacher's tokens (the first ${cfg.maxTokens} of each text, as every model sees it)`,
    },
  );
  ctx.log('info', describeBow(bow));
  const facts: RunFacts = { qCount, hidden, teacherFrozen, simulation: describeRan(ran), data, bow };
  const result = buildReport(cfg, data.classes, teacher, comparison, facts);
  await ctx.artifact(
    'test-predictions.csv',
    'predictions',
    predictionsCsv(
      comparison,
      data.classes,
      data.splits.test.map((x) => x.id),
      singlePredictions(teacher, bow),
    ),
  );
  return { ...result, backend: ranRecord(ran, sim.info) };
}

/** The teacher's own row of the results table, by column title. */
function teacherRow(teacher: TeacherOutputs, ref: { transformer: number | null; mlp: number | null }) {
  const test = teacher.splits.test;
  const C = teacher.C;
  const t = classificationReport(test.labels, argmaxRows(test.logits, test.labels.length, C), C);
  const info = teacher.info;
  const pct = (p: number | null, of: number | null) =>
    p === null || of === null ? null : `${((100 * p) / of).toFixed(3)}%`;
  const cells: Record<string, Cell> = {
    'trainable params': info.trainableParams,
    'params vs transformer student': pct(info.params, ref.transformer),
    'params vs MLP student': pct(info.params, ref.mlp),
    ...singleModelCells(t),
    'Acc/Param': info.params ? Number((t.accuracy / info.params).toExponential(3)) : null,
    // fine-tuning alone: pretraining is not a per-epoch cost of the task
    'train time / epoch (s)':
      info.finetuneEpochs > 0 && info.finetuneSeconds !== undefined
        ? r4(info.finetuneSeconds / info.finetuneEpochs)
        : null,
    'inference / sample (ms)': r4(1000 * info.inferSecondsPerSample),
    'peak RSS (MiB)': r4(info.peakRssMb),
    'peak heap (MiB)': r4(info.peakHeapMb),
  };
  return {
    report: t,
    predictions: argmaxRows(test.logits, test.labels.length, C),
    row: {
      label: `Teacher (${info.params ?? 'unknown'} parameters; trainable = ${/every weight/.test(info.description) ? 'every weight + head' : 'LoRA + head'}): ${info.description}`,
      cells,
    },
  };
}

/** What the report states about this run beside the comparison. */
interface RunFacts {
  /** The quantum student's parameter count by the formula. */
  qCount: number;
  /** The MLP student's hidden width. */
  hidden: number;
  teacherFrozen: string;
  simulation: string;
  data: TextData;
  bow: BowResult;
}

const TEACHER_KEY = 'teacher';
const BOW_KEY = 'bow';

function singlePredictions(teacher: TeacherOutputs, bow: BowResult) {
  const test = teacher.splits.test;
  return [
    {
      key: TEACHER_KEY,
      label: 'Teacher',
      predictions: argmaxRows(test.logits, test.labels.length, teacher.C),
    },
    { key: BOW_KEY, label: 'Bag-of-words logistic regression (reference)', predictions: bow.predictions },
  ];
}

/** A visible line when the teacher does worse than the bag-of-words reference on the same test split. */
function teacherWarning(teacherAcc: number, bow: BowResult): ReportSection | null {
  if (teacherAcc >= bow.test.accuracy) return null;
  return {
    type: 'text',
    title: 'Warning: the teacher is below the bag-of-words reference',
    text: `The teacher's test accuracy ${teacherAcc.toFixed(4)} is below the bag-of-words logistic regression's ${bow.test.accuracy.toFixed(4)} on the same split and truncation. Students distilled from it learn from a teacher weaker than a linear model on word counts; fine-tune it longer (teacher.finetuneEpochs, finetuneLr) or use a stronger one before drawing conclusions from the comparison.`,
  };
}

function buildReport(
  cfg: QdllmConfig,
  classes: string[],
  teacher: TeacherOutputs,
  c: Comparison,
  facts: RunFacts,
): JobResult {
  const paramsOf = (key: string) => c.models.find((m) => m.key === key)?.runs[0]?.params ?? null;
  const ref = { transformer: paramsOf('transformer'), mlp: paramsOf('mlp') };
  const pct =
    (of: number | null): Column['cell'] =>
    (runs) =>
      of === null ? null : `${((100 * runs[0].params) / of).toFixed(3)}%`;
  const t = teacherRow(teacher, ref);
  const columns: { after: string; column: Column }[] = [
    {
      after: 'trainable params',
      column: { title: 'params vs transformer student', cell: pct(ref.transformer) },
    },
    { after: 'trainable params', column: { title: 'params vs MLP student', cell: pct(ref.mlp) } },
    { after: 'F1 (weighted)', column: sciColumn('Acc/Param', (r) => r.test.accuracy / r.params) },
    { after: 'train time (s)', column: sciColumn('Acc/T_kd (1/s)', (r) => r.test.accuracy / r.trainSeconds) },
  ];
  const { bow, data } = facts;
  const bowCells = singleModelCells(bow.test);
  const bowRow = {
    label: `Bag-of-words logistic regression (reference; ${bow.vocab} words, L2 ${bow.l2})`,
    cells: { ...bowCells, 'selected lr': null, 'validation accuracy': Number(bow.valAcc.toFixed(4)) },
  };
  const tw = wilsonInterval(t.report.accuracy * t.report.n, t.report.n);
  const bw = wilsonInterval(bow.test.accuracy * bow.test.n, bow.test.n);
  const summary: Record<string, number | string> = {
    bow_test_acc: bow.test.accuracy,
    bow_test_acc_wilson_lo: bw.lo,
    bow_test_acc_wilson_hi: bw.hi,
    bow_f1_macro: bow.test.f1.macro,
    teacher_test_acc: t.report.accuracy,
    teacher_test_acc_wilson_lo: tw.lo,
    teacher_test_acc_wilson_hi: tw.hi,
    teacher_below_bow: t.report.accuracy < bow.test.accuracy ? 'yes' : 'no',
    teacher_f1_macro: t.report.f1.macro,
    split_overlap_exact: overlapTotal(data.overlap),
    split_overlap_prefix: overlapTotal(data.overlap, 'nearPrefix'),
    dedup_dropped: data.dedup ? data.dedup.before - data.dedup.kept : 0,
    teacher_cache: teacher.cache,
    teacher_frozen: facts.teacherFrozen,
    quantum_params_formula: facts.qCount,
    ansatz: cfg.ansatz,
    simulator: facts.simulation,
    ...comparisonSummary(c),
  };
  const report: ReportSection[] = [
    resultsTable(
      c,
      `QD-LLM on ${cfg.dataset}: test metrics, mean ± std over ${cfg.seeds} seed(s) (teacher: one frozen model)`,
      { columns, before: [bowRow, t.row] },
    ),
    confusionTable(
      `Confusion matrices on the test split (rows: true class; students summed over ${cfg.seeds} seed(s))`,
      classes,
      [{ label: 'Teacher', confusion: t.report.confusion }, ...summedConfusions(c)],
    ),
  ];
  const warning = teacherWarning(t.report.accuracy, bow);
  if (warning) report.unshift(warning);
  const items = pairedItemTable(c, singlePredictions(teacher, bow));
  if (items) report.push(items);
  const paired = pairedTestTable(c);
  if (paired) report.push(paired);
  if (cfg.ablation) report.push(ablationTable(cfg, c));
  report.push(setupText(cfg, teacher, c, facts));
  return { summary, report };
}

function ablationTable(cfg: QdllmConfig, c: Comparison): ReportSection {
  const figures = [
    (r: SeedRun) => r.test.accuracy,
    (r: SeedRun) => r.test.precision.macro,
    (r: SeedRun) => r.test.recall.macro,
    (r: SeedRun) => r.test.f1.macro,
  ];
  const rows: Cell[][] = [];
  for (const mode of DISTILL_MODES) {
    const key = mode === cfg.loss ? 'quantum' : `quantum-${mode}`;
    const rs = c.models.find((m) => m.key === key)?.runs;
    if (!rs) continue;
    const name = { ce: 'CE', kl: 'T²·KL', js: 'JS', all: `(1−α)CE + α(T²KL + JS), α = ${cfg.alpha}` }[mode];
    rows.push([name, ...figures.map((f) => formatMeanStd(rs.map(f)))]);
  }
  return {
    type: 'table',
    title: `Loss ablation of the quantum student (T = ${cfg.temperature}), mean ± std over ${cfg.seeds} seed(s)`,
    columns: ['loss', 'accuracy', 'precision (macro)', 'recall (macro)', 'F1 (macro)'],
    rows,
  };
}

function setupText(cfg: QdllmConfig, teacher: TeacherOutputs, c: Comparison, f: RunFacts): ReportSection {
  const { qCount, hidden, teacherFrozen, simulation } = f;
  const s = teacher.splits;
  const info = teacher.info;
  const C = teacher.C;
  return {
    type: 'text',
    title: 'Setup',
    text: [
      `Data: ${f.data.dedup ? `${describeDedup(f.data.dedup)}; ${f.data.dedup.rule}.` : 'not deduplicated.'} ${describeOverlap(f.data.overlap)}.`,
      `Data: ${cfg.dataset}, ${s.train.labels.length}/${s.validation.labels.length}/${s.test.labels.length} train/validation/test (6:2:2, class-balanced${cfg.samplesPerClass !== null ? `, cut to ${cfg.samplesPerClass} per class` : ''}), first ${cfg.maxTokens} tokens of each text.`,
      `Teacher: ${info.description}. Outputs ${teacher.cache === 'hit' ? 'read from the lab cache' : 'computed and cached'} (key ${teacher.key.slice(0, 12)}); frozen: ${teacherFrozen}.`,
      `Student embedding: ${cfg.embedding === 'tokens' ? "mean of the teacher's token embeddings" : "mean of the teacher's final hidden states"}, E = ${info.E}.`,
      `Quantum student: Linear(${info.E}→${cfg.qubits}) → min-max to [0, ${cfg.scale}] → RX → ${cfg.layers} QD-LLM ansatz layers → ⟨Z⟩ × ${cfg.qubits} → Linear(${cfg.qubits}→${C}); E·n + n + L(${cfg.ansatz === 'authors' ? '7n−5' : '7n−1'}) + n·C + C = ${qCount} trainable parameters. Ansatz: ${describeAnsatz(cfg.ansatz, cfg.qubits)}.`,
      `Simulation: ${simulation || 'no circuit ran'}; ${cfg.precision === 'f32' ? 'complex64 amplitudes (f32)' : 'complex128 amplitudes (f64, reference)'}, adjoint gradients.`,
      `MLP student: ${info.E}-${hidden}-${C} (hidden width chosen to match the quantum count). Transformer student: ${cfg.transformerStudent.layers} layers × ${cfg.transformerStudent.hiddenSize}, same tokens as the teacher.`,
      `Loss ${cfg.loss}: (1 − α)·CE + α·(T²·KL(teacher‖student) + JS), α = ${cfg.alpha}, T = ${cfg.temperature}. Base learning rates ${cfg.lr} (quantum), ${cfg.mlp.lr} (MLP), ${cfg.transformerStudent.lr} (transformer).`,
      selectionText(c, { epochs: cfg.epochs, batchSize: cfg.batchSize }),
      `Learning-rate search: each model tries its learning rate × ${cfg.lrFactors.join(', ')}; the selected values are in the table.`,
      `Seeds vary the students' initialisation and the batch order (and the simulator's sampling); the split (dataSeed ${cfg.dataSeed}) and the teacher (one model, built once) are the same in every seed, so the intervals over seeds do not include split or teacher variation.`,
      describeBow(f.bow),
      'T_kd is the distillation (training) time of a student; memory figures are whole-process peaks sampled while that model ran.',
    ].join('\n'),
  };
}

export const qdllmKind = defineJobKind({
  meta: qdllmMeta,
  run: (cfg, ctx) => runQdllm(cfg, ctx),
});
