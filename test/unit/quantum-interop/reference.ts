// A deliberately naive reference simulator for the interop tests: every gate is applied as a sum
// over all basis pairs (O(4^n)), independent of the kernels under test.
import { angleValue, type Circuit } from '../../../core/quantum/circuit';
import { gateMatrix } from '../../../core/quantum/gates';

/** Final state of one batch row (complex interleaved), amplitude ops not supported. */
export function naiveState(
  c: Circuit,
  params: ArrayLike<number> = [],
  inputs: ArrayLike<number> = [],
  b = 0,
): Float64Array {
  const n = c.qubits;
  const dim = 1 << n;
  let psi = new Float64Array(2 * dim);
  psi[0] = 1;
  for (const op of c.ops) {
    if (op.type !== 'gate') throw new Error('naiveState: gates only');
    const m = gateMatrix(
      op.gate,
      op.angles.map((a) => angleValue(a, params, inputs, c.numInputs, b)),
    );
    const k = op.wires.length;
    const d = 1 << k;
    const local = (i: number): number => {
      let l = 0;
      for (const w of op.wires) l = (l << 1) | ((i >> (n - 1 - w)) & 1);
      return l;
    };
    let mask = 0;
    for (const w of op.wires) mask |= 1 << (n - 1 - w);
    const out = new Float64Array(2 * dim);
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) {
        if ((i & ~mask) !== (j & ~mask)) continue;
        const at = 2 * (local(i) * d + local(j));
        const mr = m[at];
        const mi = m[at + 1];
        out[2 * i] += mr * psi[2 * j] - mi * psi[2 * j + 1];
        out[2 * i + 1] += mr * psi[2 * j + 1] + mi * psi[2 * j];
      }
    psi = out;
  }
  return psi;
}

/** |⟨a|b⟩|, which is 1 exactly when the states agree up to a global phase. */
export function overlap(a: Float64Array, b: Float64Array): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < a.length; i += 2) {
    re += a[i] * b[i] + a[i + 1] * b[i + 1];
    im += a[i] * b[i + 1] - a[i + 1] * b[i];
  }
  return Math.hypot(re, im);
}

/** Random state preparation prefix so gates act on a generic state, not just |0…0⟩. */
export function randomPrefix(qubits: number, seed: number): string {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296) * 6 - 3;
  };
  const lines: string[] = [];
  for (let w = 0; w < qubits; w++) lines.push(`u3(${rnd()},${rnd()},${rnd()}) q[${w}];`);
  for (let w = 0; w + 1 < qubits; w++) lines.push(`cx q[${w}],q[${w + 1}];`);
  for (let w = 0; w < qubits; w++) lines.push(`u3(${rnd()},${rnd()},${rnd()}) q[${w}];`);
  return lines.join('\n');
}
