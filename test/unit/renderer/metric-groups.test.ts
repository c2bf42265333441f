import { describe, expect, it } from 'vitest';
import {
  groupMetricKeys,
  overlayCharts,
  splitSinglePoints,
  withoutStoredSeedMeans,
} from '../../../core/api/metric-groups';

// The keys a qdllm run records (models × seeds × metrics, plus per-step and teacher curves).
const QDLLM_KEYS = ['mlp', 'quantum', 'transformer']
  .flatMap((m) =>
    [0, 1, 2].flatMap((s) => ['test_acc', 'train_loss', 'val_acc'].map((k) => `${m}/seed${s}/${k}`)),
  )
  .concat(['mlp/train_loss', 'quantum/train_loss', 'teacher/finetune_loss', 'teacher/pretrain_loss'])
  .sort();

describe('groupMetricKeys', () => {
  it('draws one chart per metric for model/seed/metric keys, labelled by the varying segments', () => {
    const groups = groupMetricKeys(QDLLM_KEYS);
    expect(groups.map((g) => g.title)).toEqual([
      '*/*/test_acc',
      '*/*/train_loss',
      '*/*/val_acc',
      '*/train_loss',
      'teacher/finetune_loss',
      'teacher/pretrain_loss',
    ]);
    const val = groups.find((g) => g.title === '*/*/val_acc')!;
    expect(val.metric).toBe('val_acc');
    expect(val.series.map((s) => s.label)).toEqual([
      'mlp/seed0',
      'mlp/seed1',
      'mlp/seed2',
      'quantum/seed0',
      'quantum/seed1',
      'quantum/seed2',
      'transformer/seed0',
      'transformer/seed1',
      'transformer/seed2',
    ]);
    // Every key lands in exactly one group.
    const all = groups.flatMap((g) => g.series.map((s) => s.key));
    expect([...all].sort()).toEqual(QDLLM_KEYS);
    expect(new Set(groups.map((g) => g.id)).size).toBe(groups.length);
  });

  it('keeps a model in one colour across charts and tells seeds apart by dash', () => {
    const groups = groupMetricKeys(QDLLM_KEYS);
    const colour = new Map<string, Set<number>>();
    for (const g of groups) {
      for (const s of g.series) {
        const model = s.key.split('/')[0];
        if (!colour.has(model)) colour.set(model, new Set());
        colour.get(model)!.add(s.color);
      }
    }
    for (const m of ['mlp', 'quantum', 'transformer']) expect(colour.get(m)!.size).toBe(1);
    const distinct = ['mlp', 'quantum', 'transformer'].map((m) => [...colour.get(m)!][0]);
    expect(new Set(distinct).size).toBe(3);
    const loss = groups.find((g) => g.title === '*/*/train_loss')!;
    expect(loss.series.filter((s) => s.key.startsWith('quantum/')).map((s) => s.dash)).toEqual([0, 1, 2]);
    expect(loss.series.filter((s) => s.key.startsWith('mlp/')).map((s) => s.dash)).toEqual([0, 1, 2]);
  });

  it('names only the segment that varies, and keeps a lone key whole', () => {
    const groups = groupMetricKeys(['quantum/seed0/loss', 'quantum/seed1/loss', 'loss', 'a/b']);
    expect(groups.map((g) => [g.title, g.series.map((s) => s.label)])).toEqual([
      ['quantum/*/loss', ['seed0', 'seed1']],
      ['loss', ['loss']],
      ['a/b', ['a/b']],
    ]);
  });

  it('does not merge keys of different depth or metric, ignores duplicates and keeps ids unique', () => {
    const groups = groupMetricKeys(['x/loss', 'x/y/loss', 'x/acc', 'x/loss', '*/loss', 'p/loss', 'q/loss']);
    expect(groups.map((g) => g.series.map((s) => s.key))).toEqual([
      ['x/loss', '*/loss', 'p/loss', 'q/loss'],
      ['x/y/loss'],
      ['x/acc'],
    ]);
    expect(new Set(groups.map((g) => g.id)).size).toBe(groups.length);
    expect(groupMetricKeys([])).toEqual([]);
  });
});

describe('withoutStoredSeedMeans', () => {
  // A qtha run stored before its charts drew one band per model: per-seed curves (the chosen candidate's under the
  // plain seed keys, each candidate's under lr<j>/) and their seed means under <model>/train_loss, <model>/val_ppl.
  const OLD_QTHA = ['qtha', 'lora-r']
    .flatMap((m) =>
      [0, 1].flatMap((s) =>
        ['train_loss', 'val_ppl', 'val_loss', 'lr0/train_loss', 'lr1/train_loss'].map(
          (k) => `${m}/seed${s}/${k}`,
        ),
      ),
    )
    .concat(['qtha/train_loss', 'qtha/val_ppl', 'lora-r/train_loss', 'lora-r/val_ppl'])
    .sort();
  const metricsOf = (keys: string[]) => groupMetricKeys(keys).map((g) => g.title);

  it("drops an old qtha run's seed means, so each metric is one chart of per-model bands", () => {
    const keys = withoutStoredSeedMeans('qtha', OLD_QTHA);
    expect(keys).toHaveLength(OLD_QTHA.length - 4);
    // train_loss: the candidates' chart and the chosen one's; val_ppl, val_loss: one each
    expect(metricsOf(keys)).toEqual(['*/*/*/train_loss', '*/*/train_loss', '*/*/val_loss', '*/*/val_ppl']);
    // the stored shape without the filter draws the means as two more charts
    expect(metricsOf(OLD_QTHA)).toEqual([
      '*/*/*/train_loss',
      '*/*/train_loss',
      '*/*/val_loss',
      '*/*/val_ppl',
      '*/train_loss',
      '*/val_ppl',
    ]);
  });

  it("keeps a mean whose seeds are not there, new qtha runs and other kinds' two-segment curves", () => {
    expect(
      withoutStoredSeedMeans('qtha', ['base/val_ppl', 'qtha/seed0/val_loss', 'qtha/train_loss']),
    ).toEqual(['base/val_ppl', 'qtha/seed0/val_loss', 'qtha/train_loss']);
    const fresh = OLD_QTHA.filter((k) => k.includes('/seed'));
    expect(withoutStoredSeedMeans('qtha', fresh)).toEqual(fresh);
    // an old qdllm run's per-batch <model>/train_loss is its own curve, not a seed mean
    expect(withoutStoredSeedMeans('qdllm', QDLLM_KEYS)).toEqual(QDLLM_KEYS);
  });
});

describe('splitSinglePoints', () => {
  it('charts groups with a multi-point series and pivots the one-point rest by prefix and metric', () => {
    const groups = groupMetricKeys(QDLLM_KEYS);
    const count = (k: string) => (k.endsWith('test_acc') ? 1 : k.startsWith('teacher/pretrain') ? 1 : 5);
    const last = (k: string) => k.length / 100;
    const { charts, singles } = splitSinglePoints(groups, count, last);
    expect(charts.map((g) => g.title)).toEqual([
      '*/*/train_loss',
      '*/*/val_acc',
      '*/train_loss',
      'teacher/finetune_loss',
    ]);
    expect(singles.columns).toEqual(['test_acc', 'pretrain_loss']);
    expect(singles.rows.map((r) => r.label)).toEqual([
      'mlp/seed0',
      'mlp/seed1',
      'mlp/seed2',
      'quantum/seed0',
      'quantum/seed1',
      'quantum/seed2',
      'transformer/seed0',
      'transformer/seed1',
      'transformer/seed2',
      'teacher',
    ]);
    expect(singles.rows[3].values).toEqual([last('quantum/seed0/test_acc'), null]);
    expect(singles.rows[9].values).toEqual([null, last('teacher/pretrain_loss')]);
  });

  it('keeps a group charted when only one of its series has several points', () => {
    const groups = groupMetricKeys(['a/loss', 'b/loss', 'c']);
    const { charts, singles } = splitSinglePoints(
      groups,
      (k) => (k === 'b/loss' ? 2 : 1),
      () => 7,
    );
    expect(charts.map((g) => g.title)).toEqual(['*/loss']);
    expect(singles).toEqual({ columns: ['c'], rows: [{ label: '', values: [7] }] });
  });
});

describe('overlayCharts', () => {
  it('overlays a small group for every run, runs first, series told apart by dash', () => {
    const charts = overlayCharts(groupMetricKeys(['mlp/loss', 'quantum/loss', 'acc']), 2, 12);
    expect(charts.map((c) => c.title)).toEqual(['*/loss', 'acc']);
    expect(charts[0].lines).toEqual([
      { run: 0, key: 'mlp/loss', label: 'mlp', dash: 0 },
      { run: 0, key: 'quantum/loss', label: 'quantum', dash: 1 },
      { run: 1, key: 'mlp/loss', label: 'mlp', dash: 0 },
      { run: 1, key: 'quantum/loss', label: 'quantum', dash: 1 },
    ]);
    expect(charts[1].lines).toEqual([
      { run: 0, key: 'acc', label: '', dash: 0 },
      { run: 1, key: 'acc', label: '', dash: 0 },
    ]);
  });

  it('splits a crowded group by model, then by key, never over the line budget when it can help it', () => {
    const groups = groupMetricKeys(QDLLM_KEYS);
    const charts = overlayCharts(groups, 2, 12);
    const titles = charts.map((c) => c.title);
    expect(titles).toContain('mlp/*/val_acc');
    expect(titles).toContain('quantum/*/val_acc');
    expect(titles).toContain('*/train_loss');
    const q = charts.find((c) => c.title === 'quantum/*/val_acc')!;
    expect(q.lines.map((l) => `${l.run}:${l.label}`)).toEqual([
      '0:quantum/seed0',
      '0:quantum/seed1',
      '0:quantum/seed2',
      '1:quantum/seed0',
      '1:quantum/seed1',
      '1:quantum/seed2',
    ]);
    for (const c of charts) expect(c.lines.length).toBeLessThanOrEqual(12);
    // Every (run, key) pair is drawn exactly once, and ids are unique.
    const drawn = charts.flatMap((c) => c.lines.map((l) => `${l.run}|${l.key}`)).sort();
    expect(drawn).toEqual(QDLLM_KEYS.flatMap((k) => [`0|${k}`, `1|${k}`]).sort());
    expect(new Set(charts.map((c) => c.id)).size).toBe(charts.length);
    // With 5 runs a model's 3 seeds are 15 lines: one chart per key instead.
    const five = overlayCharts(groups, 5, 12);
    expect(five.map((c) => c.title)).toContain('quantum/seed1/val_acc');
    for (const c of five) expect(c.lines.length).toBeLessThanOrEqual(12);
  });
});
