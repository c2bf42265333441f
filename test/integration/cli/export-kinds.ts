// A job kind for the export tests: no training, a qdllm-shaped result (the harness's results table with the
// qdllm's extra columns, its summary keys), so the PDF and LaTeX exports are checked on the real table width.
import { z } from 'zod';
import { resultsColumns } from '../../../core/methods/harness/report';
import type { JobKind } from '../../../core/methods/job';

const Config = z
  .object({
    dataset: z.string().default('spam'),
    qubits: z.number().int().default(11),
    teacher: z
      .object({ source: z.string(), epochs: z.number().int() })
      .default({ source: 'lab-transformer', epochs: 2 }),
  })
  .strict();

/** The qdllm's columns around the harness's standard ones (core/methods/qdllm/index.ts buildReport). */
export const QDLLM_COLUMNS = [
  'model',
  ...resultsColumns([
    { after: 'trainable params', column: { title: 'params vs transformer student', cell: () => null } },
    { after: 'trainable params', column: { title: 'params vs MLP student', cell: () => null } },
    { after: 'F1 (weighted)', column: { title: 'Acc/Param', cell: () => null } },
    { after: 'train time (s)', column: { title: 'Acc/T_kd (1/s)', cell: () => null } },
  ]).map((c) => c.title),
];

const MODELS = [
  { key: 'quantum', label: 'Quantum student (11 qubits)', acc: 0.8125, std: 0.0125, params: 143 },
  { key: 'mlp', label: 'MLP student (matched params)', acc: 0.8438, std: 0.0063, params: 146 },
  { key: 'transformer', label: 'Transformer student', acc: 0.8906, std: 0.0188, params: 25_408 },
];

export const qdllmReportKind: JobKind<z.infer<typeof Config>> = {
  kind: 'test-qdllm-report',
  title: 'Test: qdllm-shaped report',
  description: 'Returns a qdllm-shaped results table; for the export tests.',
  schema: Config,
  defaults: { dataset: 'spam', qubits: 11, teacher: { source: 'lab-transformer', epochs: 2 } },
  async run(config, ctx) {
    ctx.metrics([0, 1, 2, 3].map((step) => ({ key: 'quantum/loss', step, value: 1 / (1 + step) })));
    const summary: Record<string, number | string> = { teacher_test_acc: 0.9375, ansatz: 'hea' };
    const rows = MODELS.map((m) => {
      summary[`${m.key}_test_acc`] = m.acc;
      summary[`${m.key}_test_acc_std`] = m.std;
      summary[`${m.key}_params`] = m.params;
      return QDLLM_COLUMNS.map((title, j) => {
        if (j === 0) return m.label;
        if (title === 'trainable params') return m.params;
        if (title === 'accuracy') return `${m.acc.toFixed(4)} ± ${m.std.toFixed(4)}`;
        if (title === 'Acc/Param') return Number((m.acc / m.params).toExponential(3));
        if (title.includes('CI')) return `${(m.acc - 0.02).toFixed(4)} – ${(m.acc + 0.02).toFixed(4)}`;
        if (title === 'selected lr') return 0.01;
        return `${(m.acc - 0.01 * j).toFixed(4)} ± 0.0100`;
      });
    });
    return {
      summary,
      report: [
        {
          type: 'table',
          title: `QD-LLM on ${config.dataset}: test metrics, mean ± std over 3 seed(s) & 100% of α_test`,
          columns: QDLLM_COLUMNS,
          rows,
        },
        { type: 'text', title: 'Setup', text: `${config.qubits} qubits, teacher ${config.teacher.source}.` },
      ],
    };
  },
};

export const kinds = [qdllmReportKind];
