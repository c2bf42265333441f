// BatchRequest.out: the caller's arrays for a call's results. Every backend writes its results into them (the
// result's fields are then those arrays), with numbers equal bit for bit to a call without them, whatever the
// arrays held before; a wrong-size or wrong-type array is refused naming its field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BatchRequest,
  ExpvalResult,
  ResultBuffers,
  Simulator,
  VjpResult,
} from '../../../core/quantum/backend';
import { CircuitBuilder, type Circuit } from '../../../core/quantum/circuit';
import { createCpuSimulator, type CpuSimulator } from '../../../core/quantum/cpu/simulator';
import { createGpuSimulator } from '../../../core/quantum/gpu/simulator';
import { createNoisySimulator } from '../../../core/quantum/noisy-simulator';
import { createShotSimulator } from '../../../core/quantum/sampled-simulators';
import { stronglyEntanglingLayers } from '../../../core/quantum/templates';
import { mulberry32 as rng } from '../../helpers/quantum';

/** Amplitude-encoded features (norms), angle-encoded ones, entangling layers, three observables. */
function circuit(qubits: number): Circuit {
  const b = new CircuitBuilder(qubits, 6);
  b.amplitude([0, 1], 0, 4);
  b.gate('RY', [2], [b.x(4, 1.3)]).gate('RX', [qubits - 1], [b.x(5)]);
  stronglyEntanglingLayers(b, 2);
  return b
    .observe([
      { ops: [{ wire: 0, pauli: 'Z' }] },
      {
        coeff: 0.5,
        ops: [
          { wire: 1, pauli: 'X' },
          { wire: qubits - 1, pauli: 'Y' },
        ],
      },
      { ops: [{ wire: 2, pauli: 'Z' }] },
    ])
    .build();
}

function request(c: Circuit, batch: number, seed: number): { req: BatchRequest; g: Float64Array } {
  const r = rng(seed);
  const params = Float64Array.from({ length: c.numParams }, () => 6 * r() - 3);
  const inputs = Float64Array.from({ length: batch * c.numInputs }, () => 2 * r() - 1);
  const g = Float64Array.from({ length: batch * 3 }, () => r() - 0.5);
  return { req: { circuit: c, params, inputs, batch }, g };
}

/** Result arrays for `req`, in shared memory or not, filled with NaN (what a stale buffer might hold). */
function buffers(req: BatchRequest, shared: boolean): Required<ResultBuffers> {
  const make = (n: number): Float64Array => {
    const a = shared ? new Float64Array(new SharedArrayBuffer(8 * n)) : new Float64Array(n);
    return a.fill(NaN);
  };
  const c = req.circuit;
  return {
    expvals: make(req.batch * 3),
    norms: make(req.batch),
    dParams: make(c.numParams),
    dInputs: make(req.batch * c.numInputs),
  };
}

function sameExpval(plain: ExpvalResult, into: ExpvalResult, out: ResultBuffers): void {
  expect(into.expvals).toBe(out.expvals);
  expect(into.norms).toBe(out.norms);
  expect(Array.from(into.expvals)).toEqual(Array.from(plain.expvals));
  expect(Array.from(into.norms)).toEqual(Array.from(plain.norms));
}

function sameVjp(plain: VjpResult, into: VjpResult, out: ResultBuffers): void {
  sameExpval(plain, into, out);
  expect(into.dParams).toBe(out.dParams);
  expect(into.dInputs).toBe(out.dInputs);
  expect(Array.from(into.dParams)).toEqual(Array.from(plain.dParams));
  expect(Array.from(into.dInputs)).toEqual(Array.from(plain.dInputs));
}

describe('cpu backend: results written into the caller’s arrays', () => {
  const sims: { one: CpuSimulator; three: CpuSimulator }[] = [];
  beforeAll(async () => {
    for (const precision of ['f32', 'f64'] as const) {
      const three = createCpuSimulator({ precision, threads: 3 });
      await three.prepareSync();
      sims.push({ one: createCpuSimulator({ precision }), three });
    }
  });
  afterAll(() => {
    for (const s of sims) s.three.dispose();
  });

  it('one thread and both thread pools, async and sync, shared and plain arrays, reused: bit for bit', async () => {
    let seed = 1;
    for (const { one, three } of sims)
      for (const batch of [40, 200])
        for (const shared of [false, true]) {
          const c = circuit(5);
          const out = buffers(request(c, batch, 0).req, shared);
          // the same arrays twice (a training loop's second step): the first call's values must not leak in
          for (let step = 0; step < 2; step++) {
            const { req, g } = request(c, batch, seed++);
            const withOut = { ...req, out };
            const plain = await one.vjp(req, g);
            for (const sim of [one, three]) {
              sameVjp(plain, await sim.vjp(withOut, g), out);
              sameVjp(plain, sim.vjpSync(withOut, g), out);
              sameExpval(plain, await sim.expval(withOut), out);
              sameExpval(plain, sim.expvalSync(withOut), out);
            }
            if (batch === 200) {
              expect((await three.vjp(withOut, g)).info.mode).toMatch(/-threads$/);
              expect(three.vjpSync(withOut, g).info.mode).toMatch(/-threads$/);
            }
          }
        }
  });

  it('the message pool: overlapping calls of different x and sizes each get their own numbers (its x buffers are reused, never shared)', async () => {
    const { one, three } = sims[0];
    const c = circuit(5);
    for (let round = 0; round < 3; round++) {
      const calls = [200, 96, 200, 130].map((batch, i) => request(c, batch, 50 + 10 * round + i));
      const [threaded, alone] = await Promise.all([
        Promise.all(calls.map(({ req, g }) => three.vjp(req, g))),
        Promise.all(calls.map(({ req }) => three.expval(req))),
      ]);
      for (let i = 0; i < calls.length; i++) {
        const plain = await one.vjp(calls[i].req, calls[i].g);
        expect(threaded[i].info.mode).toMatch(/-threads$/);
        expect(Array.from(threaded[i].dInputs)).toEqual(Array.from(plain.dInputs));
        expect(Array.from(threaded[i].dParams)).toEqual(Array.from(plain.dParams));
        expect(Array.from(alone[i].expvals)).toEqual(Array.from(plain.expvals));
      }
    }
  });

  it('a subset of the arrays: the others are fresh', async () => {
    const { one } = sims[1];
    const { req, g } = request(circuit(4), 8, 3);
    const dInputs = new Float64Array(8 * 6).fill(7);
    const r = await one.vjp({ ...req, out: { dInputs } }, g);
    const plain = await one.vjp(req, g);
    expect(r.dInputs).toBe(dInputs);
    expect(Array.from(r.dInputs)).toEqual(Array.from(plain.dInputs));
    expect(Array.from(r.dParams)).toEqual(Array.from(plain.dParams));
  });

  it('refuses a wrong-size, wrong-type or unknown array by name, before running', async () => {
    const { one, three } = sims[0];
    const { req, g } = request(circuit(4), 8, 4);
    const bad: [ResultBuffers, RegExp][] = [
      [{ dInputs: new Float64Array(47) }, /^out\.dInputs: must hold batch × numInputs = 48 values, got 47$/],
      [{ dParams: new Float64Array(1) }, /^out\.dParams: must hold numParams = \d+ values, got 1$/],
      [{ expvals: new Float64Array(25) }, /^out\.expvals: must hold batch × numObservables = 24 values/],
      [{ norms: new Float64Array(0) }, /^out\.norms: must hold batch × numAmplitudeOps = 8 values, got 0$/],
      [
        { expvals: new Float32Array(24) as unknown as Float64Array },
        /^out\.expvals: must be a Float64Array of batch × numObservables = 24 values, got Float32Array$/,
      ],
      [{ dInput: new Float64Array(48) } as ResultBuffers, /^out\.dInput: not a result field/],
    ];
    for (const [out, msg] of bad) {
      await expect(one.vjp({ ...req, out }, g)).rejects.toThrow(msg);
      expect(() => three.vjpSync({ ...req, out }, g)).toThrow(msg);
      await expect(one.expval({ ...req, out })).rejects.toThrow(msg);
    }
  });
});

describe('other backends: results copied into the caller’s arrays', () => {
  async function check(make: () => Promise<Simulator> | Simulator): Promise<void> {
    const { req, g } = request(circuit(4), 3, 5);
    // two simulators of one seed: the stochastic ones draw per call, so each answers one call of each kind
    const [a, b] = [await make(), await make()];
    try {
      const out = buffers(req, false);
      const plainE = await a.expval(req);
      sameExpval(plainE, await b.expval({ ...req, out }), out);
      const plainV = await a.vjp(req, g);
      sameVjp(plainV, await b.vjp({ ...req, out }, g), out);
      await expect(b.vjp({ ...req, out: { dInputs: new Float64Array(1) } }, g)).rejects.toThrow(
        /^out\.dInputs: must hold batch × numInputs = 18 values, got 1$/,
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  }
  it('noisy (density, with shots)', () =>
    check(() =>
      createNoisySimulator({
        noise: { rules: [{ channel: { type: 'depolarizing', p: 0.05 }, after: 'all' }] },
        shots: 50,
        seed: 3,
      }),
    ));
  it('noisy (trajectories)', () =>
    check(() =>
      createNoisySimulator({
        noise: { rules: [{ channel: { type: 'depolarizing', p: 0.05 }, after: 'all' }] },
        method: 'trajectories',
        trajectories: 4,
        seed: 3,
      }),
    ));
  it('sampled (shots)', () => check(() => createShotSimulator(64, 9, 'f64')));
  it('gpu (webasm)', () => check(() => createGpuSimulator({ mode: 'webasm' })));
});
