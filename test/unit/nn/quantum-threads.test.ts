// Quantum modules on a threaded cpu simulator: inside a tiny transformer the loss and every gradient equal the
// unthreaded run bit for bit, and QuantumLayer's synchronous path (cpu) equals its awaited one (an async-only
// wrapper of the same simulator) bit for bit, so existing QuantumLayer users see the numbers they saw before.
import { afterAll, describe, expect, it } from 'vitest';
import { QuantumFfn } from '../../../core/nn/quantum-ffn';
import { QuantumLayer } from '../../../core/nn/quantum-layer';
import { angleEncodedPqc } from '../../../core/quantum/qffn-circuits';
import { zeroGrad } from '../../../core/nn/tensor';
import { Transformer, type TransformerConfig } from '../../../core/nn/transformer';
import type { Simulator, SyncSimulator } from '../../../core/quantum/backend';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { randArr } from './gradcheck';

/** The simulator with the mode of every synchronous result recorded. */
function recording(sim: SyncSimulator): { sim: SyncSimulator; modes: string[] } {
  const modes: string[] = [];
  return {
    modes,
    sim: {
      info: sim.info,
      expvalSync: (req) => {
        const r = sim.expvalSync(req);
        modes.push(r.info.mode);
        return r;
      },
      vjpSync: (req, g) => {
        const r = sim.vjpSync(req, g);
        modes.push(r.info.mode);
        return r;
      },
    },
  };
}

/** Only the async calls of `sim`, as the recording wrapper of core/quantum/simulators.ts forwards them. */
function asyncOnly(sim: Simulator): Simulator {
  return {
    info: sim.info,
    expval: (req) => sim.expval(req),
    vjp: (req, g) => sim.vjp(req, g),
    probs: (req, w) => sim.probs(req, w),
    state: (req) => sim.state(req),
    dispose: () => sim.dispose(),
  };
}

const config: TransformerConfig = {
  flavour: 'llama',
  vocabSize: 11,
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 1,
  maxSeqLen: 20,
  initStd: 0.3,
};
const B = 4;
const T = 20; // 80 rows per FFN call: three gradient chunks, the last one partial
const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % 11);
const targets = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 1) % 11);

function build(sim: SyncSimulator): Transformer {
  const m = new Transformer(config, { dtype: 'f64', seed: 3 });
  m.replaceFeedForward(
    0,
    new QuantumFfn('model.layers.0.mlp', 8, sim, { form: 'amplitude', depth: 2, dtype: 'f64', seed: 4 }),
  );
  m.replaceFeedForward(
    1,
    new QuantumFfn('model.layers.1.mlp', 8, sim, {
      form: 'bottleneck',
      depth: 2,
      qubits: 3,
      dtype: 'f64',
      seed: 5,
    }),
  );
  let k = 0;
  for (const p of m.parameters())
    if (p.name.endsWith('.scale') || p.name.endsWith('out_proj.weight'))
      p.data.set(randArr(p.size, 20 + k++));
  return m;
}

const threaded = createCpuSimulator({ precision: 'f64', threads: 2 });
afterAll(() => threaded.dispose());

describe('quantum modules on worker threads', () => {
  it('a tiny transformer with quantum FFNs gives the same loss and gradients threaded as in one thread', async () => {
    await threaded.prepareSync();
    const one = recording(createCpuSimulator({ precision: 'f64' }));
    const two = recording(threaded);
    const [a, b] = [build(one.sim), build(two.sim)];
    const run = (m: Transformer): number => {
      zeroGrad(m.parameters());
      const loss = m.lmForward(tokens, B, T, targets);
      m.lmBackward();
      return loss;
    };
    expect(run(b)).toBe(run(a));
    const [pa, pb] = [a.parameters(), b.parameters()];
    expect(pb.map((p) => p.name)).toEqual(pa.map((p) => p.name));
    for (let i = 0; i < pa.length; i++)
      expect(Array.from(pb[i].grad), pa[i].name).toEqual(Array.from(pa[i].grad));
    expect(pa.filter((p) => p.name.endsWith('theta')).every((p) => p.grad.some((g) => g !== 0))).toBe(true);
    expect(two.modes.length).toBe(4);
    expect(two.modes.every((m) => m === 'wasm-simd-threads')).toBe(true);
    expect(one.modes.every((m) => m === 'wasm-simd')).toBe(true);
  });

  for (const [label, make] of [
    ['one thread', () => createCpuSimulator({ precision: 'f32' })],
    ['worker threads', () => createCpuSimulator({ precision: 'f32', threads: 2 })],
  ] as const)
    it(`QuantumLayer: the synchronous path (${label}) equals the awaited one bit for bit`, async () => {
      const sim = make();
      try {
        const circuit = angleEncodedPqc(5, 2);
        const N = 100;
        const x = randArr(N * 5, 1);
        const w = randArr(N * 5, 2);
        const layers = [sim, asyncOnly(sim)].map((s) => new QuantumLayer('q', circuit, s, { seed: 7 }));
        const outs: Float64Array[][] = [];
        for (const q of layers) {
          const dx = new Float64Array(N * 5);
          const y = await q.forward(x, N);
          const ret = await q.backward(w, dx);
          await q.forward(x, N);
          await q.backward(w); // accumulates a second time
          outs.push([y, dx, ret, Float64Array.from(q.theta.grad)]);
        }
        for (let i = 0; i < outs[0].length; i++)
          expect(Array.from(outs[0][i])).toEqual(Array.from(outs[1][i]));
      } finally {
        sim.dispose();
      }
    });
});
