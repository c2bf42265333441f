// Host-side (f64) gate matrices and their angle derivatives, written into flat arrays that are
// uploaded to the device as kernel arguments (so one traced pipeline serves every angle value).
// 2×2 layout: [m00re, m00im, m01re, m01im, m10re, m10im, m11re, m11im]; 4×4: row-major, 32 floats,
// basis index = 2·bit(wires[0]) + bit(wires[1]).
import type { GateOp } from '../circuit';
import { GATE_RECORDS } from '../gates';

/** Single-qubit gates that the device applies through the 2×2 (optionally controlled) kernel. */
export type OneQubitBase =
  | 'I'
  | 'X'
  | 'Y'
  | 'Z'
  | 'H'
  | 'S'
  | 'Sdg'
  | 'T'
  | 'Tdg'
  | 'SX'
  | 'RX'
  | 'RY'
  | 'RZ'
  | 'PhaseShift'
  | 'Rot'
  | 'U2'
  | 'U3';
export type TwoQubitBase = 'SWAP' | 'RXX' | 'RYY' | 'RZZ';

/** How one gate of the record runs on the device. */
export type LoweredGate =
  | { kind: 'g1'; base: OneQubitBase; target: number; controls: number[] }
  | { kind: 'g2'; base: TwoQubitBase; wires: [number, number] };

export function lowerGate(op: GateOp): LoweredGate {
  const g = op.gate;
  if (g === 'SWAP' || g === 'RXX' || g === 'RYY' || g === 'RZZ') {
    return { kind: 'g2', base: g, wires: [op.wires[0], op.wires[1]] };
  }
  // the controls and the one-qubit gate they control come from the gate record (U1's base is PhaseShift)
  const { controls, base } = GATE_RECORDS[g];
  return {
    kind: 'g1',
    base: base as OneQubitBase,
    target: op.wires[controls],
    controls: op.wires.slice(0, controls),
  };
}

function set2(
  out: Float64Array,
  o: number,
  a: number,
  ai: number,
  b: number,
  bi: number,
  c: number,
  ci: number,
  d: number,
  di: number,
): void {
  out[o] = a;
  out[o + 1] = ai;
  out[o + 2] = b;
  out[o + 3] = bi;
  out[o + 4] = c;
  out[o + 5] = ci;
  out[o + 6] = d;
  out[o + 7] = di;
}

/** out[o..o+8) = A·B for 2×2 complex matrices stored as above. */
function mul2(out: Float64Array, o: number, A: Float64Array, B: Float64Array): void {
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) {
      let re = 0;
      let im = 0;
      for (let k = 0; k < 2; k++) {
        const ar = A[4 * r + 2 * k];
        const ai = A[4 * r + 2 * k + 1];
        const br = B[4 * k + 2 * c];
        const bi = B[4 * k + 2 * c + 1];
        re += ar * br - ai * bi;
        im += ar * bi + ai * br;
      }
      out[o + 4 * r + 2 * c] = re;
      out[o + 4 * r + 2 * c + 1] = im;
    }
  }
}

// Rot is a product of three matrices; scratch space is reused so filling B matrices allocates nothing.
const ROT_SCRATCH = [new Float64Array(8), new Float64Array(8), new Float64Array(8)];

/**
 * Writes the 2×2 matrix of `base` (deriv < 0) or its derivative with respect to angle `deriv`.
 * Conventions follow PennyLane (U3(θ,φ,λ), U2(φ,λ), Rot(φ,θ,ω) = RZ(ω)RY(θ)RZ(φ)).
 */
export function oneQubitMatrix(
  base: OneQubitBase,
  angles: ArrayLike<number>,
  deriv: number,
  out: Float64Array,
  o: number,
): void {
  const h = Math.SQRT1_2;
  const t = angles.length > 0 ? angles[0] : 0;
  const c = Math.cos(t / 2);
  const s = Math.sin(t / 2);
  // dc/dθ = −s/2, ds/dθ = c/2: derivatives of the half-angle gates reuse the same formulas.
  const dc = deriv === 0 ? -s / 2 : c;
  const ds = deriv === 0 ? c / 2 : s;
  switch (base) {
    case 'I':
      return set2(out, o, 1, 0, 0, 0, 0, 0, 1, 0);
    case 'X':
      return set2(out, o, 0, 0, 1, 0, 1, 0, 0, 0);
    case 'Y':
      return set2(out, o, 0, 0, 0, -1, 0, 1, 0, 0);
    case 'Z':
      return set2(out, o, 1, 0, 0, 0, 0, 0, -1, 0);
    case 'H':
      return set2(out, o, h, 0, h, 0, h, 0, -h, 0);
    case 'S':
      return set2(out, o, 1, 0, 0, 0, 0, 0, 0, 1);
    case 'Sdg':
      return set2(out, o, 1, 0, 0, 0, 0, 0, 0, -1);
    case 'T':
      return set2(out, o, 1, 0, 0, 0, 0, 0, h, h);
    case 'Tdg':
      return set2(out, o, 1, 0, 0, 0, 0, 0, h, -h);
    case 'SX':
      return set2(out, o, 0.5, 0.5, 0.5, -0.5, 0.5, -0.5, 0.5, 0.5);
    case 'RX':
      return set2(out, o, dc, 0, 0, -ds, 0, -ds, dc, 0);
    case 'RY':
      return set2(out, o, dc, 0, -ds, 0, ds, 0, dc, 0);
    case 'RZ': {
      // diag(e^{-iθ/2}, e^{iθ/2}); d/dθ multiplies each entry by ∓i/2.
      if (deriv < 0) return set2(out, o, c, -s, 0, 0, 0, 0, c, s);
      return set2(out, o, -s / 2, -c / 2, 0, 0, 0, 0, -s / 2, c / 2);
    }
    case 'PhaseShift': {
      const pc = Math.cos(t);
      const ps = Math.sin(t);
      if (deriv < 0) return set2(out, o, 1, 0, 0, 0, 0, 0, pc, ps);
      return set2(out, o, 0, 0, 0, 0, 0, 0, -ps, pc);
    }
    case 'Rot': {
      const f = ROT_SCRATCH[0];
      const m = ROT_SCRATCH[1];
      const r = ROT_SCRATCH[2];
      oneQubitMatrix('RZ', [angles[2]], deriv === 2 ? 0 : -1, f, 0);
      oneQubitMatrix('RY', [angles[1]], deriv === 1 ? 0 : -1, m, 0);
      mul2(r, 0, f, m);
      oneQubitMatrix('RZ', [angles[0]], deriv === 0 ? 0 : -1, f, 0);
      return mul2(out, o, r, f);
    }
    case 'U2':
      return phasedU(0, 1, 0, angles[0], angles[1], deriv < 0 ? -1 : deriv + 1, h, out, o);
    case 'U3':
      return phasedU(c, s, t, angles[1], angles[2], deriv, 1, out, o);
  }
}

/**
 * U3(θ,φ,λ)·k = k·[[c, −e^{iλ}s], [e^{iφ}s, e^{i(φ+λ)}c]] (U2 is θ = π/2 with k = 1/√2 folded in).
 * deriv: −1 none, 0 θ, 1 φ, 2 λ.
 */
function phasedU(
  c: number,
  s: number,
  t: number,
  phi: number,
  lam: number,
  deriv: number,
  k: number,
  out: Float64Array,
  o: number,
): void {
  let cc = c;
  let ss = s;
  if (k !== 1) {
    cc = 1;
    ss = 1;
  } else if (deriv === 0) {
    cc = -Math.sin(t / 2) / 2;
    ss = Math.cos(t / 2) / 2;
  }
  // each entry is g·e^{i(aφ+bλ)}; a φ- or λ-derivative multiplies it by i·a or i·b
  const entry = (g: number, a: number, b: number, idx: number): void => {
    const ang = a * phi + b * lam;
    let re = k * g * Math.cos(ang);
    let im = k * g * Math.sin(ang);
    if (deriv === 1 || deriv === 2) {
      const f = deriv === 1 ? a : b;
      const nr = -im * f;
      im = re * f;
      re = nr;
    }
    out[o + idx] = re;
    out[o + idx + 1] = im;
  };
  entry(cc, 0, 0, 0);
  entry(-ss, 0, 1, 2);
  entry(ss, 1, 0, 4);
  entry(cc, 1, 1, 6);
}

// P⊗P for RXX/RYY/RZZ (real entries): exp(−iθ/2·P⊗P) = cos(θ/2)·I − i·sin(θ/2)·P⊗P.
const PP: Record<'RXX' | 'RYY' | 'RZZ', number[]> = {
  RXX: [0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0],
  RYY: [0, 0, 0, -1, 0, 0, 1, 0, 0, 1, 0, 0, -1, 0, 0, 0],
  RZZ: [1, 0, 0, 0, 0, -1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1],
};

/** Writes the 4×4 matrix (deriv < 0) or its angle derivative (deriv = 0) of a two-qubit gate. */
export function twoQubitMatrix(
  base: TwoQubitBase,
  angles: ArrayLike<number>,
  deriv: number,
  out: Float64Array,
  o: number,
): void {
  out.fill(0, o, o + 32);
  if (base === 'SWAP') {
    const perm = [0, 2, 1, 3];
    for (let r = 0; r < 4; r++) out[o + 8 * r + 2 * perm[r]] = 1;
    return;
  }
  const t = angles[0];
  const c = deriv < 0 ? Math.cos(t / 2) : -Math.sin(t / 2) / 2;
  const s = deriv < 0 ? Math.sin(t / 2) : Math.cos(t / 2) / 2;
  const p = PP[base];
  for (let r = 0; r < 4; r++) {
    for (let k = 0; k < 4; k++) {
      out[o + 8 * r + 2 * k] = r === k ? c : 0;
      out[o + 8 * r + 2 * k + 1] = -s * p[4 * r + k];
    }
  }
}

/** In place: the d×d complex block at o becomes its conjugate transpose. */
export function daggerInPlace(out: Float64Array, o: number, d: number): void {
  for (let r = 0; r < d; r++) {
    const diag = o + 2 * (d * r + r);
    out[diag + 1] = -out[diag + 1];
    for (let k = r + 1; k < d; k++) {
      const a = o + 2 * (d * r + k);
      const b = o + 2 * (d * k + r);
      const ar = out[a];
      const ai = out[a + 1];
      out[a] = out[b];
      out[a + 1] = -out[b + 1];
      out[b] = ar;
      out[b + 1] = -ai;
    }
  }
}
