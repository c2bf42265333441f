import { describe, expect, it } from 'vitest';
import type { BatchRequest, Simulator } from '../../../core/quantum/backend';
import { CircuitBuilder, type Circuit } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { createNoisySimulator } from '../../../core/quantum/noisy-simulator';
import { checkBatchRequest } from '../../../core/quantum/request';

function circuit(): Circuit {
  const b = new CircuitBuilder(2, 1);
  b.gate('RY', [0], [b.x(0)])
    .gate('RX', [1], [b.p()])
    .gate('CNOT', [0, 1]);
  b.observe([
    {
      ops: [
        { wire: 0, pauli: 'Z' },
        { wire: 1, pauli: 'Z' },
      ],
    },
  ]);
  return b.build();
}

const bad: [string, (c: Circuit) => BatchRequest, RegExp][] = [
  ['no circuit', () => ({ params: [], inputs: [], batch: 1 }) as unknown as BatchRequest, /^circuit: /],
  ['negative batch', (c) => ({ circuit: c, params: [0], inputs: [], batch: -1 }), /^batch: .*got -1/],
  [
    'short params',
    (c) => ({ circuit: c, params: [], inputs: [0, 0], batch: 2 }),
    /^params: need 1 values, got 0/,
  ],
  [
    'short inputs',
    (c) => ({ circuit: c, params: [0], inputs: [0], batch: 2 }),
    /^inputs: need batch × numInputs = 2 values, got 1/,
  ],
  [
    'missing inputs',
    (c) => ({ circuit: c, params: [0], batch: 2 }) as unknown as BatchRequest,
    /^inputs: .* got none/,
  ],
];

describe('checkBatchRequest', () => {
  it('returns the circuit of a well-formed request', () => {
    const c = circuit();
    expect(checkBatchRequest({ circuit: c, params: [0.3], inputs: [0.1, 0.2], batch: 2 })).toBe(c);
  });

  it('names the field at fault, and the noisy and CPU simulators reject with the same message', async () => {
    const c = circuit();
    const sims: Simulator[] = [createCpuSimulator({ precision: 'f64' }), createNoisySimulator({})];
    for (const [what, make, message] of bad) {
      expect(() => checkBatchRequest(make(c)), what).toThrow(message);
      for (const sim of sims)
        await expect(sim.expval(make(c)), `${sim.info.backend} ${what}`).rejects.toThrow(message);
    }
    for (const sim of sims) sim.dispose();
  });
});
