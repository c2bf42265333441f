// Parameter counts of the three QFFN models by closed form (core/methods/qffn/counts.ts, what the wizard and the
// report show) against countParameters of the models the job builds, for both FFN forms, both head kernels, with
// and without the Gaussian head's map, both classical compressions and every fraction; the placements; invalid
// configs refused naming the field.
import { describe, expect, it } from 'vitest';
import { QuantumFfn } from '../../../core/nn/quantum-ffn';
import { countParameters } from '../../../core/nn/tensor';
import { Transformer } from '../../../core/nn/transformer';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { modelCounts, total } from '../../../core/methods/qffn/counts';
import { qffnMeta } from '../../../core/methods/qffn/meta';
import { componentCounts, makeClassical, makeQffn } from '../../../core/methods/qffn/models';
import { QffnConfigSchema, quantumBlocks, type QffnConfig } from '../../../core/methods/qffn/schema';

const sim = createCpuSimulator({ precision: 'f32' });

function base(c: QffnConfig): Transformer {
  const b = c.base;
  return new Transformer(
    {
      flavour: 'llama',
      vocabSize: b.vocabSize,
      hiddenSize: b.hiddenSize,
      intermediateSize: b.intermediateSize,
      numLayers: b.layers,
      numHeads: b.heads,
      maxSeqLen: 8,
      tieEmbeddings: true,
    },
    { seed: 1 },
  );
}

const shape = { vocabSize: 300, hiddenSize: 16, layers: 4, heads: 2, intermediateSize: 40 };
const CASES: Record<string, Record<string, unknown>> = {
  'amplitude, Gaussian heads with a map, narrow, ½': {},
  'amplitude, Gaussian heads without a map, low-rank, ¼': {
    fraction: 0.25,
    headQubits: null,
    classicalForm: 'low-rank',
  },
  'bottleneck n = 3, unitary heads, narrow, all': {
    fraction: 1,
    ffnForm: 'bottleneck',
    qubits: 3,
    headKernel: 'unitary',
    depth: 2,
  },
  'amplitude, no quantum heads, low-rank, ¾ first': {
    fraction: 0.75,
    placement: 'first',
    quantumHeads: false,
    classicalForm: 'low-rank',
  },
  'no quantum block (fraction 0)': { fraction: 0 },
  'bottleneck default qubits, random placement': {
    ffnForm: 'bottleneck',
    placement: 'random',
    placementSeed: 9,
  },
};

describe('parameter counts against the built models', () => {
  it.each(Object.entries(CASES))('%s', (_, patch) => {
    const c = QffnConfigSchema.parse({ base: shape, ...patch });
    const closed = modelCounts(c, {
      V: shape.vocabSize,
      H: shape.hiddenSize,
      I: shape.intermediateSize,
      layers: shape.layers,
      heads: shape.heads,
    });
    const q = base(c);
    const qc = makeQffn(q, c, sim, 1);
    expect(componentCounts(q, qc.quantum)).toEqual(closed.qffn);
    expect(total(closed.qffn)).toBe(countParameters(q.parameters()));
    const u = base(c);
    expect(componentCounts(u, new Set())).toEqual(closed.uncompressed);
    const k = base(c);
    makeClassical(k, c, 1);
    expect(componentCounts(k, new Set())).toEqual(closed.classical);
    expect(total(closed.classical)).toBe(countParameters(k.parameters()));
    // the metadata shows the same numbers
    const shown = Object.fromEntries(qffnMeta.parameterCounts(c).map((m) => [m.key, m.params]));
    expect(shown).toEqual({
      qffn: total(closed.qffn),
      uncompressed: total(closed.uncompressed),
      classical: total(closed.classical),
    });
  });

  it('the matched classical model is the closest count the width allows', () => {
    const c = QffnConfigSchema.parse({ base: shape });
    const s = { V: 300, H: 16, I: 40, layers: 4, heads: 2 };
    const m = modelCounts(c, s);
    const diff = Math.abs(total(m.classical) - total(m.qffn));
    // one unit more or less of width moves the count by 3H per compressed block
    expect(diff).toBeLessThanOrEqual((3 * 16 * quantumBlocks(4, 0.5, 'alternating', 0).length) / 2);
  });

  it('closed forms of one quantum FFN: 3nD + 2d (amplitude), 3nD + (d + 1)n + (n + 1)d (bottleneck)', () => {
    const ffn = new QuantumFfn('f', 64, sim, { form: 'amplitude', depth: 4 });
    expect(countParameters(ffn.parameters())).toBe(3 * 6 * 4 + 2 * 64);
    const b = new QuantumFfn('f', 64, sim, { form: 'bottleneck', depth: 4, qubits: 5 });
    expect(countParameters(b.parameters())).toBe(3 * 5 * 4 + 65 * 5 + 6 * 64);
  });
});

describe('placements', () => {
  it('alternating spreads k blocks ending at the last; first/last; random is seeded', () => {
    expect(quantumBlocks(4, 0.5, 'alternating', 0)).toEqual([1, 3]);
    expect(quantumBlocks(4, 0.25, 'alternating', 0)).toEqual([3]);
    expect(quantumBlocks(4, 0.75, 'alternating', 0)).toEqual([0, 1, 3]);
    expect(quantumBlocks(4, 1, 'alternating', 0)).toEqual([0, 1, 2, 3]);
    expect(quantumBlocks(4, 0, 'alternating', 0)).toEqual([]);
    expect(quantumBlocks(4, 0.5, 'first', 0)).toEqual([0, 1]);
    expect(quantumBlocks(4, 0.5, 'last', 0)).toEqual([2, 3]);
    const r = quantumBlocks(8, 0.5, 'random', 3);
    expect(r).toEqual(quantumBlocks(8, 0.5, 'random', 3));
    expect(r).toHaveLength(4);
    expect(new Set(r).size).toBe(4);
  });
});

describe('invalid configs are refused naming the field', () => {
  const issue = (cfg: unknown) => {
    const r = QffnConfigSchema.safeParse(cfg);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  it('qubits too few for d, fraction outside [0, 1], an unknown placement', () => {
    expect(issue({ base: { hiddenSize: 64 }, qubits: 5 })).toEqual([
      'qubits: 5 qubits are too few to amplitude-encode d = 64 values: need ⌈log2 64⌉ = 6',
    ]);
    expect(issue({ fraction: 1.5 })[0]).toMatch(/^fraction: must be in \[0, 1\]/);
    expect(issue({ fraction: -0.25 })[0]).toMatch(/^fraction: must be in \[0, 1\]/);
    expect(issue({ placement: 'middle' })[0]).toMatch(/^placement: /);
    expect(issue({ headShare: 2 })[0]).toMatch(/^headShare: /);
    expect(issue({ sweep: { fractions: [0.5, 3] } })[0]).toMatch(/^sweep\.fractions\.1: /);
    expect(issue({ base: { hiddenSize: 30, heads: 4 } })[0]).toMatch(/^base\.heads: /);
  });
  it('the defaults and both presets are valid', () => {
    expect(QffnConfigSchema.safeParse({}).success).toBe(true);
    for (const p of qffnMeta.presets) expect(QffnConfigSchema.safeParse(p.config).success, p.id).toBe(true);
  });
});
