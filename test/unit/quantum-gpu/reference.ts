// A deliberately plain f64 dense state-vector reference for the gpu backend's tests. It shares no
// code with core/quantum/gpu: every gate is written out as its full matrix on its own wires
// (controls included), applied by summing over basis states.
import { angleValue, observablesOf, type Circuit, type GateName } from '../../../core/quantum/circuit';

type C = [number, number];
const c = (re: number, im = 0): C => [re, im];
const expi = (t: number): C => [Math.cos(t), Math.sin(t)];
const mul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const scale = (a: C, s: number): C => [a[0] * s, a[1] * s];

type M = C[][];

function matmul(a: M, b: M): M {
  return a.map((row) =>
    b[0].map((_, j) =>
      row.reduce<C>((acc, x, k) => [acc[0] + mul(x, b[k][j])[0], acc[1] + mul(x, b[k][j])[1]], c(0)),
    ),
  );
}

function kron(a: M, b: M): M {
  const out: M = [];
  for (let i = 0; i < a.length; i++)
    for (let k = 0; k < b.length; k++) {
      const row: C[] = [];
      for (let j = 0; j < a.length; j++) for (let l = 0; l < b.length; l++) row.push(mul(a[i][j], b[k][l]));
      out.push(row);
    }
  return out;
}

const I2: M = [
  [c(1), c(0)],
  [c(0), c(1)],
];
const X: M = [
  [c(0), c(1)],
  [c(1), c(0)],
];
const Y: M = [
  [c(0), c(0, -1)],
  [c(0, 1), c(0)],
];
const Z: M = [
  [c(1), c(0)],
  [c(0), c(-1)],
];

/** exp(−iθ/2·G) for a Pauli product G (G² = I). */
function rot(G: M, t: number): M {
  const id = G.map((row, i) => row.map((_, j) => c(i === j ? 1 : 0)));
  return id.map((row, i) =>
    row.map(
      (x, j) => [Math.cos(t / 2) * x[0] + Math.sin(t / 2) * G[i][j][1], -Math.sin(t / 2) * G[i][j][0]] as C,
    ),
  );
}

function u3(t: number, p: number, l: number): M {
  return [
    [c(Math.cos(t / 2)), scale(expi(l), -Math.sin(t / 2))],
    [scale(expi(p), Math.sin(t / 2)), scale(expi(p + l), Math.cos(t / 2))],
  ];
}

function controlled(u: M, controls: number): M {
  const d = u.length << controls;
  const out: M = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => c(i === j ? 1 : 0)));
  const o = d - u.length;
  for (let i = 0; i < u.length; i++) for (let j = 0; j < u.length; j++) out[o + i][o + j] = u[i][j];
  return out;
}

/** The matrix of a gate on its own wires (wires[0] most significant), PennyLane conventions. */
export function gateMatrix(gate: GateName, a: number[]): M {
  const s = Math.SQRT1_2;
  switch (gate) {
    case 'I':
      return I2;
    case 'X':
      return X;
    case 'Y':
      return Y;
    case 'Z':
      return Z;
    case 'H':
      return [
        [c(s), c(s)],
        [c(s), c(-s)],
      ];
    case 'S':
      return [
        [c(1), c(0)],
        [c(0), c(0, 1)],
      ];
    case 'Sdg':
      return [
        [c(1), c(0)],
        [c(0), c(0, -1)],
      ];
    case 'T':
      return [
        [c(1), c(0)],
        [c(0), expi(Math.PI / 4)],
      ];
    case 'Tdg':
      return [
        [c(1), c(0)],
        [c(0), expi(-Math.PI / 4)],
      ];
    case 'SX':
      return [
        [c(0.5, 0.5), c(0.5, -0.5)],
        [c(0.5, -0.5), c(0.5, 0.5)],
      ];
    case 'RX':
      return rot(X, a[0]);
    case 'RY':
      return rot(Y, a[0]);
    case 'RZ':
      return rot(Z, a[0]);
    case 'PhaseShift':
    case 'U1':
      return [
        [c(1), c(0)],
        [c(0), expi(a[0])],
      ];
    case 'Rot':
      return matmul(rot(Z, a[2]), matmul(rot(Y, a[1]), rot(Z, a[0])));
    case 'U2':
      return u3(Math.PI / 2, a[0], a[1]);
    case 'U3':
      return u3(a[0], a[1], a[2]);
    case 'CNOT':
      return controlled(X, 1);
    case 'CY':
      return controlled(Y, 1);
    case 'CZ':
      return controlled(Z, 1);
    case 'CH':
      return controlled(gateMatrix('H', []), 1);
    case 'SWAP':
      return [
        [c(1), c(0), c(0), c(0)],
        [c(0), c(0), c(1), c(0)],
        [c(0), c(1), c(0), c(0)],
        [c(0), c(0), c(0), c(1)],
      ];
    case 'CRX':
      return controlled(rot(X, a[0]), 1);
    case 'CRY':
      return controlled(rot(Y, a[0]), 1);
    case 'CRZ':
      return controlled(rot(Z, a[0]), 1);
    case 'CPhase':
      return controlled(gateMatrix('PhaseShift', a), 1);
    case 'CU3':
      return controlled(u3(a[0], a[1], a[2]), 1);
    case 'RXX':
      return rot(kron(X, X), a[0]);
    case 'RYY':
      return rot(kron(Y, Y), a[0]);
    case 'RZZ':
      return rot(kron(Z, Z), a[0]);
    case 'Toffoli':
      return controlled(X, 2);
  }
}

function applyDense(state: Float64Array, n: number, wires: number[], u: M): void {
  const N = 2 ** n;
  const out = new Float64Array(2 * N);
  const k = wires.length;
  for (let x = 0; x < N; x++) {
    let row = 0;
    for (const w of wires) row = 2 * row + ((x >> (n - 1 - w)) & 1);
    let cleared = x;
    for (const w of wires) cleared &= ~(1 << (n - 1 - w));
    for (let col = 0; col < 2 ** k; col++) {
      let y = cleared;
      for (let j = 0; j < k; j++) if ((col >> (k - 1 - j)) & 1) y |= 1 << (n - 1 - wires[j]);
      const m = u[row][col];
      out[2 * x] += m[0] * state[2 * y] - m[1] * state[2 * y + 1];
      out[2 * x + 1] += m[0] * state[2 * y + 1] + m[1] * state[2 * y];
    }
  }
  state.set(out);
}

/** Final state of batch row b, (2^n, 2) interleaved. */
export function refState(
  circuit: Circuit,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  b: number,
): Float64Array {
  const n = circuit.qubits;
  const st = new Float64Array(2 * 2 ** n);
  st[0] = 1;
  for (const op of circuit.ops) {
    if (op.type === 'amplitude') {
      const xs = Array.from({ length: op.length }, (_, i) => inputs[b * circuit.numInputs + op.start + i]);
      const norm = Math.hypot(...xs);
      // prepare on fresh wires: the map |0⟩_W ⊗ χ → |a⟩_W ⊗ χ, written as a matrix whose first column is a
      const d = 2 ** op.wires.length;
      const u: M = Array.from({ length: d }, (_, i) =>
        Array.from({ length: d }, (_, j) => c(j === 0 ? (xs[i] ?? 0) / norm : 0)),
      );
      applyDense(st, n, op.wires, u);
      continue;
    }
    const a = op.angles.map((x) => angleValue(x, params, inputs, circuit.numInputs, b));
    applyDense(st, n, op.wires, gateMatrix(op.gate, a));
  }
  return st;
}

/** Expectation values of the circuit's observables, (batch, T). */
export function refExpvals(
  circuit: Circuit,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  batch: number,
): Float64Array {
  const terms = observablesOf(circuit);
  const n = circuit.qubits;
  const out = new Float64Array(batch * terms.length);
  for (let b = 0; b < batch; b++) {
    const st = refState(circuit, params, inputs, b);
    terms.forEach((t, i) => {
      const p = st.slice();
      for (const o of t.ops) applyDense(p, n, [o.wire], o.pauli === 'X' ? X : o.pauli === 'Y' ? Y : Z);
      let re = 0;
      for (let k = 0; k < p.length; k += 2) re += st[k] * p[k] + st[k + 1] * p[k + 1];
      out[b * terms.length + i] = (t.coeff ?? 1) * re;
    });
  }
  return out;
}

export function refProbs(
  circuit: Circuit,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  batch: number,
  wires: number[],
): Float64Array {
  const n = circuit.qubits;
  const P = 2 ** wires.length;
  const out = new Float64Array(batch * P);
  for (let b = 0; b < batch; b++) {
    const st = refState(circuit, params, inputs, b);
    for (let x = 0; x < 2 ** n; x++) {
      let k = 0;
      for (const w of wires) k = 2 * k + ((x >> (n - 1 - w)) & 1);
      out[b * P + k] += st[2 * x] ** 2 + st[2 * x + 1] ** 2;
    }
  }
  return out;
}

/** Central finite differences (f64) of L = Σ g·expvals with respect to params and inputs. */
export function refVjpFd(
  circuit: Circuit,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  batch: number,
  g: ArrayLike<number>,
  h = 1e-6,
): { dParams: Float64Array; dInputs: Float64Array } {
  const loss = (p: ArrayLike<number>, x: ArrayLike<number>): number => {
    const e = refExpvals(circuit, p, x, batch);
    let s = 0;
    for (let i = 0; i < e.length; i++) s += g[i] * e[i];
    return s;
  };
  const fd = (v: ArrayLike<number>, f: (w: Float64Array) => number): Float64Array => {
    const w = Float64Array.from(v);
    const out = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const o = w[i];
      w[i] = o + h;
      const up = f(w);
      w[i] = o - h;
      const down = f(w);
      w[i] = o;
      out[i] = (up - down) / (2 * h);
    }
    return out;
  };
  return { dParams: fd(params, (p) => loss(p, inputs)), dInputs: fd(inputs, (x) => loss(params, x)) };
}
