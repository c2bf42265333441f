import { describe, expect, it } from 'vitest';
import type { SplitName } from '../../../core/data/names';
import type { MetricPoint } from '../../../core/methods/job';
import {
  crossEntropyLoss,
  type ClassificationData,
  type Classifier,
} from '../../../core/methods/harness/classifier';
import { runComparison, type Comparison } from '../../../core/methods/harness/compare';
import type { ModelSpec } from '../../../core/methods/harness/fit';
import {
  comparisonSummary,
  intervalText,
  pairedTestTable,
  PERPLEXITY,
  resultsTable,
  SHARE,
} from '../../../core/methods/harness/report';
import { repetitionReport } from '../../../core/methods/harness/vary';
import { pairedTTest, tQuantile } from '../../../core/methods/harness/stats';
import { Parameter } from '../../../core/nn/tensor';

// 10 train rows, 4 validation, 4 test, two classes; batch 4 → 3 steps per epoch
const N = { train: 10, validation: 4, test: 4 };
const labels = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 2);
const data: ClassificationData = {
  classes: 2,
  labels: { train: labels(N.train), validation: labels(N.validation), test: labels(N.test) },
};
const STEPS = 3;

type Event = { model: string; candidate: number; split: SplitName; rows: number[]; epoch: number };

/**
 * A model whose only parameter counts its training steps (the harness's Adam sees a zero gradient and leaves
 * it alone), so its "epoch" is in its weights: restoring the selected weights rewinds it. Each split's
 * accuracy at epoch e is read from a curve: exactly round(acc·n) rows get their label's logit up.
 */
function fakeModel(
  name: string,
  candidate: number,
  curves: Record<'validation' | 'test', number[]>,
  events: Event[],
): Classifier {
  const p = new Parameter(`${name}.steps`, [1], 'f64');
  let out = new Float64Array(0);
  const epochOf = () => Math.round(p.data[0] / STEPS);
  return {
    parameters: () => [p],
    forward(rows, split) {
      const epoch = epochOf();
      events.push({ model: name, candidate, split, rows: Array.from(rows), epoch });
      out = new Float64Array(rows.length * 2);
      const acc = split === 'train' ? 0.5 : curves[split][epoch];
      // rows are 0..n-1 in order on validation and test, labels alternate: the first k rows are right
      const right = Math.round(acc * data.labels[split].length);
      rows.forEach((r, b) => {
        const y = data.labels[split][r];
        out[b * 2 + (r < right ? y : 1 - y)] = 1;
      });
      return out;
    },
    backward() {
      p.data[0] += 1;
    },
  };
}

function spec(
  key: string,
  curves: Record<'validation' | 'test', number[]>[],
  events: Event[],
  lrs = curves.map((_, i) => 0.01 * (i + 1)),
): ModelSpec {
  let built = 0;
  return {
    key,
    label: `${key} model`,
    lrs,
    loss: crossEntropyLoss(2),
    build: () => {
      const c = built++ % curves.length;
      return fakeModel(key, c, curves[c], events);
    },
  };
}

const plan = { order: (k: number) => 100 + k, init: (k: number, m: number) => 10 * k + m };
const run = (models: ModelSpec[], over: { seeds?: number; patience?: number } = {}) => {
  const points: MetricPoint[] = [];
  const done = runComparison(
    models,
    data,
    { epochs: 4, batchSize: 4, evalBatch: 2, seeds: 1, plan, reference: models[0].key, ...over },
    { metrics: (p) => points.push(...p) },
  );
  return { done, points };
};

describe('selection reads validation only; test is read once per model, at the end', () => {
  // index = epoch (0 = before training, unused): validation peaks at epoch 2, test at epoch 4
  const disagree = { validation: [0, 0.25, 0.75, 0.5, 0.5], test: [0, 0.25, 0.25, 0.5, 1] };

  it('picks the epoch by validation, restores its weights, and reports test there', async () => {
    const events: Event[] = [];
    const { done, points } = run([spec('quantum', [disagree], events)]);
    const r = (await done).models[0].runs[0];
    expect(r.epoch).toBe(2);
    expect(r.valAcc).toBe(0.75);
    expect(r.test.accuracy).toBe(0.25); // test at the selected epoch, not test's own best (1 at epoch 4)
    const tests = events.filter((e) => e.split === 'test');
    expect(tests).toHaveLength(2); // 4 test rows in evaluation batches of 2: one pass
    expect(tests.every((e) => e.epoch === 2)).toBe(true);
    // every test forward comes after the last training and validation forward
    const lastOther = events.map((e) => e.split !== 'test').lastIndexOf(true);
    expect(events.findIndex((e) => e.split === 'test')).toBeGreaterThan(lastOther);
    expect(points.filter((p) => p.key.includes('test')).map((p) => p.key)).toEqual([
      'quantum/seed0/test_acc',
      'quantum/seed0/test_f1_macro',
    ]);
    expect(points.filter((p) => p.key === 'quantum/seed0/val_acc').map((p) => p.value)).toEqual([
      0.25, 0.75, 0.5, 0.5,
    ]);
  });

  it('picks the learning rate by validation with every candidate on the same batches', async () => {
    const events: Event[] = [];
    const better = { validation: [0, 0.25, 0.5, 1, 0.75], test: [0, 0, 0.75, 0.5, 0.25] };
    const c = await run([spec('quantum', [disagree, better], events)]).done;
    const r = c.models[0].runs[0];
    expect([r.lrIndex, r.lr, r.epoch]).toEqual([1, 0.02, 3]);
    expect(r.test.accuracy).toBe(0.5); // candidate 1 rewound from epoch 4 to epoch 3
    expect(events.filter((e) => e.split === 'test')).toHaveLength(2);
    const order = (cand: number) =>
      events.filter((e) => e.split === 'train' && e.candidate === cand).map((e) => e.rows);
    expect(order(0)).toEqual(order(1));
    expect(c.candidates).toBe(2);
  });

  it('stops a candidate early after `patience` epochs without a better validation score', async () => {
    const events: Event[] = [];
    const { done, points } = run([spec('quantum', [disagree], events)], { patience: 1 });
    await done;
    // best at 2, no gain at 3: stop
    expect(points.filter((p) => p.key === 'quantum/seed0/val_acc')).toHaveLength(3);
  });
});

describe('every model sees the same seeds and batches', () => {
  it('records one batch order per repetition, shared by every model, a permutation per epoch', async () => {
    const events: Event[] = [];
    const flat = { validation: [0, 0.5, 0.5, 0.5, 0.5], test: [0, 0.5, 0.5, 0.5, 0.5] };
    const models = [spec('quantum', [flat], events), spec('mlp', [flat], events)];
    const seen: string[] = [];
    const wrapped = models.map((m) => ({
      ...m,
      build: (seed: number) => {
        seen.push(`${m.key}:${seed}`);
        return m.build(seed);
      },
    }));
    const c = await run(wrapped, { seeds: 2 }).done;
    expect(seen).toEqual(['quantum:0', 'mlp:1', 'quantum:10', 'mlp:11']);
    const batches = (model: string, k: number) =>
      events.filter((e) => e.model === model && e.split === 'train').slice(12 * k, 12 * (k + 1));
    for (const k of [0, 1]) {
      const q = batches('quantum', k).map((e) => e.rows);
      expect(batches('mlp', k).map((e) => e.rows)).toEqual(q);
      expect(q.map((r) => r.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2, 4, 4, 2]);
      for (let e = 0; e < 4; e++)
        expect(
          q
            .slice(STEPS * e, STEPS * (e + 1))
            .flat()
            .sort((a, b) => a - b),
        ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(batches('quantum', 0).map((e) => e.rows)).not.toEqual(batches('quantum', 1).map((e) => e.rows));
    expect(c.models.map((m) => m.runs.map((r) => r.seed))).toEqual([
      [0, 10],
      [1, 11],
    ]);
  });

  it('refuses models with different tuning budgets or an unknown reference', async () => {
    const flat = { validation: [0, 0.5, 0.5, 0.5, 0.5], test: [0, 0.5, 0.5, 0.5, 0.5] };
    await expect(run([spec('quantum', [flat, flat], []), spec('mlp', [flat], [])]).done).rejects.toThrow(
      /same tuning budget: quantum has 2 learning rate\(s\), mlp 1/,
    );
    const models = [spec('mlp', [flat], [])];
    await expect(
      runComparison(
        models,
        data,
        { epochs: 1, batchSize: 4, seeds: 1, plan, reference: 'quantum' },
        {
          metrics: () => {},
        },
      ),
    ).rejects.toThrow(/reference model quantum is not among mlp/);
  });
});

describe('report pieces', () => {
  // per-seed test accuracies: quantum 0.75, 1, 0.75; mlp 0.5, 0.75, 0.75 (selected epoch = 1 everywhere)
  const seeded = (accs: number[]) => {
    let k = 0;
    return {
      key: '',
      label: '',
      lrs: [0.01],
      loss: crossEntropyLoss(2),
      build: () => {
        const a = accs[k++];
        return fakeModel('m', 0, { validation: [0, 1, 0.5, 0.5, 0.5], test: [0, a, 0, 0, 0] }, []);
      },
    };
  };
  let comparison: Comparison;
  const load = async () =>
    (comparison ??= await run(
      [
        { ...seeded([0.75, 1, 0.75]), key: 'quantum', label: 'Quantum' },
        { ...seeded([0.5, 0.75, 0.75]), key: 'mlp-small', label: 'MLP' },
      ],
      { seeds: 3 },
    ).done);

  it('summary keys: mean, std, t interval half width, paired p against the reference', async () => {
    const s = comparisonSummary(await load());
    expect(s.quantum_test_acc).toBeCloseTo(2.5 / 3, 14);
    expect(s.quantum_test_acc_std).toBeCloseTo(Math.sqrt(1 / 48), 14);
    expect(s.quantum_test_acc_ci95).toBeCloseTo((tQuantile(0.975, 2) * Math.sqrt(1 / 48)) / Math.sqrt(3), 12);
    expect(s.mlp_small_test_acc).toBeCloseTo(2 / 3, 14);
    // differences 0.25, 0.25, 0: mean 1/6, sd √(1/48), t = 2 on 2 dof: p = 1 − 2/√6
    expect(s.mlp_small_vs_quantum_p).toBeCloseTo(1 - 2 / Math.sqrt(6), 12);
    expect(s.quantum_vs_quantum_p).toBeUndefined();
    expect(s.quantum_params).toBe(1);
    expect(s.quantum_epoch).toBe(1);
    expect(s.quantum_lr).toBe(0.01);
  });

  it('results and paired-test tables', async () => {
    const c = await load();
    const t = resultsTable(c, 'title', {
      before: [{ label: 'Teacher', cells: { accuracy: 0.9 } }],
      columns: [{ after: 'accuracy', column: { title: 'extra', cell: (runs) => runs.length } }],
    });
    if (t.type !== 'table') throw new Error('expected a table');
    expect(t.columns.slice(0, 5)).toEqual([
      'model',
      'trainable params',
      'accuracy',
      'extra',
      'accuracy 95% CI',
    ]);
    expect(t.rows[0].slice(0, 4)).toEqual(['Teacher', null, 0.9, null]);
    expect(t.rows[1].slice(0, 4)).toEqual(['Quantum', 1, '0.8333 ± 0.1443', 3]);
    const half = (tQuantile(0.975, 2) * Math.sqrt(1 / 48)) / Math.sqrt(3);
    // 0.8333 + 0.3586 passes 1: the cell shows the interval inside [0, 1]
    expect(t.rows[1][4]).toBe(`${(2.5 / 3 - half).toFixed(4)} – 1.0000 (clipped to [0, 1])`);
    const p = pairedTestTable(c);
    if (p?.type !== 'table') throw new Error('expected a table');
    const ref = pairedTTest([0.75, 1, 0.75], [0.5, 0.75, 0.75]);
    expect(p.rows).toEqual([
      [
        'MLP',
        Number((1 / 6).toFixed(4)),
        `${ref.lo.toFixed(4)} – ${ref.hi.toFixed(4)}`,
        2,
        2,
        Number(ref.p.toFixed(4)),
      ],
    ]);
  });
});

describe('intervals of bounded figures stay inside their range', () => {
  it('intervalText clips to the range and says so; inside it the cell is unchanged', () => {
    expect(intervalText(-0.96, 2.21, 4, SHARE)).toBe('0.0000 – 1.0000 (clipped to [0, 1])');
    expect(intervalText(0.58, 1.2, 2, SHARE)).toBe('0.58 – 1.00 (clipped to [0, 1])');
    expect(intervalText(0.5812, 0.6355, 4, SHARE)).toBe('0.5812 – 0.6355');
    expect(intervalText(-0.5, 0.5, 2)).toBe('-0.50 – 0.50');
    expect(intervalText(0.2, 3, 3, PERPLEXITY)).toBe('1.000 – 3.000 (clipped to [1, ∞))');
  });

  it('two seeds: the accuracy t interval (±12.7 standard errors) and the paired difference are clipped', async () => {
    // quantum 0.25, 1 (mean 0.625, sd 0.53: t interval −4.14 – 5.39); mlp 1, 0 (differences −0.75, 1)
    const seeded = (accs: number[], key: string) => {
      let k = 0;
      return {
        key,
        label: key,
        lrs: [0.01],
        loss: crossEntropyLoss(2),
        build: () =>
          fakeModel('m', 0, { validation: [0, 1, 0.5, 0.5, 0.5], test: [0, accs[k++], 0, 0, 0] }, []),
      };
    };
    const c = await run([seeded([0.25, 1], 'quantum'), seeded([1, 0], 'mlp')], { seeds: 2 }).done;
    const t = resultsTable(c, 'title');
    if (t.type !== 'table') throw new Error('expected a table');
    const ci = t.columns.indexOf('accuracy 95% CI');
    expect(t.rows.map((r) => r[ci])).toEqual([
      '0.0000 – 1.0000 (clipped to [0, 1])',
      '0.0000 – 1.0000 (clipped to [0, 1])',
    ]);
    const p = pairedTestTable(c);
    if (p?.type !== 'table') throw new Error('expected a table');
    expect(p.rows[0][2]).toBe('-1.0000 – 1.0000 (clipped to [-1, 1])');
    // the summary keeps the t interval's half width: the stored figure is the statistic, the cell its reading
    expect(Number(comparisonSummary(c).quantum_test_acc_ci95)).toBeGreaterThan(1);
  });

  it('repetitions (vary): the interval over two repetitions is clipped too', () => {
    const r = repetitionReport(
      [{ summary: { quantum_test_acc: 0.2 } }, { summary: { quantum_test_acc: 0.9 } }],
      { models: ['quantum'], reference: 'quantum', referenceLabel: 'q', varied: ['split'], what: 'split' },
    );
    const t = r.report![0];
    if (t.type !== 'table') throw new Error('expected a table');
    expect(t.rows[0][t.columns.indexOf('95% CI (t over repetitions)')]).toBe(
      '0.0000 – 1.0000 (clipped to [0, 1])',
    );
  });
});

describe('series keys: one curve per seed from its own step 0, the chosen candidate under the plain key', () => {
  const disagree = { validation: [0, 0.25, 0.75, 0.5, 0.5], test: [0, 0.25, 0.25, 0.5, 1] };
  const better = { validation: [0, 0.25, 0.5, 1, 0.75], test: [0, 0, 0.75, 0.5, 0.25] };
  // candidates in build order (seed 0: lr0, lr1; seed 1: lr0, lr1): validation picks lr1 in seed 0, lr0 in seed 1
  const swapped = (key: string): ModelSpec => {
    let built = 0;
    const byBuild = [disagree, better, better, disagree];
    return {
      key,
      label: key,
      lrs: [0.01, 0.02],
      loss: crossEntropyLoss(2),
      build: () => {
        const b = built++;
        return fakeModel(key, b % 2, byBuild[b], []);
      },
    };
  };

  it('2 seeds × 2 candidates: no series mixes seeds, each starts at 0, the plain key is the chosen one', async () => {
    const { done, points } = run([swapped('quantum'), swapped('mlp')], { seeds: 2 });
    const c = await done;
    const series = new Map<string, MetricPoint[]>();
    for (const p of points) {
      if (!series.has(p.key)) series.set(p.key, []);
      series.get(p.key)!.push(p);
    }
    // every key belongs to one model and one seed, and its steps only go up (no seed or candidate joined on)
    for (const [key, ps] of series) {
      expect(key).toMatch(/^(quantum|mlp)\/seed[01]\//);
      for (let i = 1; i < ps.length; i++) expect(ps[i].step, key).toBeGreaterThan(ps[i - 1].step);
    }
    const at = (key: string) => (series.get(key) ?? []).map((p) => [p.step, p.value]);
    const steps = Array.from({ length: 4 * STEPS }, (_, i) => i);
    for (const [mi, model] of ['quantum', 'mlp'].entries())
      for (const k of [0, 1]) {
        const run = c.models[mi].runs[k];
        const chosen = k === 0 ? 1 : 0;
        expect([run.lrIndex, run.lr]).toEqual([chosen, 0.01 * (chosen + 1)]);
        for (const j of [0, 1])
          expect(at(`${model}/seed${k}/lr${j}/step_loss`).map(([s]) => s)).toEqual(steps);
        expect(at(`${model}/seed${k}/step_loss`)).toEqual(at(`${model}/seed${k}/lr${chosen}/step_loss`));
        for (const m of ['train_loss', 'train_acc', 'val_acc', 'val_loss']) {
          expect(at(`${model}/seed${k}/${m}`), m).toEqual(at(`${model}/seed${k}/lr${chosen}/${m}`));
          expect(at(`${model}/seed${k}/${m}`).map(([s]) => s)).toEqual([1, 2, 3, 4]);
        }
        expect(at(`${model}/seed${k}/lr`)).toEqual([[0, run.lr]]);
      }
    // the candidates' validation curves differ, so the equality above names the chosen one: the better curve,
    // candidate 1 in seed 0 and candidate 0 in seed 1
    const val = (key: string) => at(key).map(([, v]) => v);
    expect(val('quantum/seed0/lr0/val_acc')).toEqual([0.25, 0.75, 0.5, 0.5]);
    expect(val('quantum/seed1/lr1/val_acc')).toEqual([0.25, 0.75, 0.5, 0.5]);
    for (const k of [0, 1]) expect(val(`quantum/seed${k}/val_acc`)).toEqual([0.25, 0.5, 1, 0.75]);
    // the per-step loss is written nowhere else (the old `<model>/train_loss` ran one counter through it all)
    expect([...series.keys()].filter((key) => key.endsWith('step_loss'))).toHaveLength(12);
  });
});
