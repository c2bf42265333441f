// Every gate of the circuit record as data: its dense matrix, its parameter-shift recipe and the
// exact decomposition into single-angle primitives that the adjoint method walks.
// Matrices are 2^k × 2^k complex, interleaved (re, im), row-major, with op.wires[0] the most
// significant bit of the local basis index (controls first, so CNOT is the textbook matrix).
import { GATES, type GateName } from './circuit';

const SQRT1_2 = Math.SQRT1_2;

function mat(k: number, entries: [number, number, number, number][]): Float64Array {
  // entries: [row, col, re, im] sparse form; the rest of the matrix is zero
  const d = 1 << k;
  const m = new Float64Array(2 * d * d);
  for (const [r, c, re, im] of entries) {
    m[2 * (r * d + c)] = re;
    m[2 * (r * d + c) + 1] = im;
  }
  return m;
}

/** Dense 2×2 from four complex entries given as [re, im] pairs, row-major. */
function m2(
  a: [number, number],
  b: [number, number],
  c: [number, number],
  d: [number, number],
): Float64Array {
  return Float64Array.of(a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1]);
}

const cis = (t: number): [number, number] => [Math.cos(t), Math.sin(t)];

/** Embeds a 2×2 as the target block of a gate controlled by `controls` leading wires. */
function controlled(u: Float64Array, controls: number): Float64Array {
  const k = controls + 1;
  const d = 1 << k;
  const m = new Float64Array(2 * d * d);
  for (let i = 0; i < d - 2; i++) m[2 * (i * d + i)] = 1;
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      const at = 2 * ((d - 2 + r) * d + (d - 2 + c));
      m[at] = u[2 * (2 * r + c)];
      m[at + 1] = u[2 * (2 * r + c) + 1];
    }
  return m;
}

function oneQubit(gate: GateName, a: number[]): Float64Array | undefined {
  const c = Math.cos(a[0] / 2);
  const s = Math.sin(a[0] / 2);
  switch (gate) {
    case 'I':
      return m2([1, 0], [0, 0], [0, 0], [1, 0]);
    case 'X':
      return m2([0, 0], [1, 0], [1, 0], [0, 0]);
    case 'Y':
      return m2([0, 0], [0, -1], [0, 1], [0, 0]);
    case 'Z':
      return m2([1, 0], [0, 0], [0, 0], [-1, 0]);
    case 'H':
      return m2([SQRT1_2, 0], [SQRT1_2, 0], [SQRT1_2, 0], [-SQRT1_2, 0]);
    case 'S':
      return m2([1, 0], [0, 0], [0, 0], [0, 1]);
    case 'Sdg':
      return m2([1, 0], [0, 0], [0, 0], [0, -1]);
    case 'T':
      return m2([1, 0], [0, 0], [0, 0], cis(Math.PI / 4));
    case 'Tdg':
      return m2([1, 0], [0, 0], [0, 0], cis(-Math.PI / 4));
    case 'SX':
      return m2([0.5, 0.5], [0.5, -0.5], [0.5, -0.5], [0.5, 0.5]);
    case 'RX':
      return m2([c, 0], [0, -s], [0, -s], [c, 0]);
    case 'RY':
      return m2([c, 0], [-s, 0], [s, 0], [c, 0]);
    case 'RZ':
      return m2(cis(-a[0] / 2), [0, 0], [0, 0], cis(a[0] / 2));
    case 'PhaseShift':
    case 'U1':
      return m2([1, 0], [0, 0], [0, 0], cis(a[0]));
    case 'Rot': {
      // RZ(ω) RY(θ) RZ(φ)
      const [phi, theta, omega] = a;
      const ct = Math.cos(theta / 2);
      const st = Math.sin(theta / 2);
      const p = cis(-(phi + omega) / 2);
      const q = cis((phi - omega) / 2);
      return m2(
        [p[0] * ct, p[1] * ct],
        [-q[0] * st, -q[1] * st],
        [q[0] * st, -q[1] * st],
        [p[0] * ct, -p[1] * ct],
      );
    }
    case 'U2': {
      const [phi, lam] = a;
      const l = cis(lam);
      const f = cis(phi);
      const fl = cis(phi + lam);
      return m2(
        [SQRT1_2, 0],
        [-SQRT1_2 * l[0], -SQRT1_2 * l[1]],
        [SQRT1_2 * f[0], SQRT1_2 * f[1]],
        [SQRT1_2 * fl[0], SQRT1_2 * fl[1]],
      );
    }
    case 'U3': {
      const [theta, phi, lam] = a;
      const ct = Math.cos(theta / 2);
      const st = Math.sin(theta / 2);
      const l = cis(lam);
      const f = cis(phi);
      const fl = cis(phi + lam);
      return m2([ct, 0], [-st * l[0], -st * l[1]], [st * f[0], st * f[1]], [ct * fl[0], ct * fl[1]]);
    }
    default:
      return undefined;
  }
}

/** Controlled gates: how many leading wires are controls, and the one-qubit gate they control. */
const CONTROLLED: Partial<Record<GateName, { controls: number; base: GateName }>> = {
  CNOT: { controls: 1, base: 'X' },
  CY: { controls: 1, base: 'Y' },
  CZ: { controls: 1, base: 'Z' },
  CH: { controls: 1, base: 'H' },
  CRX: { controls: 1, base: 'RX' },
  CRY: { controls: 1, base: 'RY' },
  CRZ: { controls: 1, base: 'RZ' },
  CPhase: { controls: 1, base: 'PhaseShift' },
  CU3: { controls: 1, base: 'U3' },
  Toffoli: { controls: 2, base: 'X' },
};

/**
 * Dense matrix of a gate at the given angles: 2^k × 2^k complex, interleaved re/im, row-major,
 * with the gate's first wire as the most significant bit of the local index.
 */
export function gateMatrix(gate: GateName, angles: readonly number[] = []): Float64Array {
  const spec = GATES[gate];
  if (!spec) throw new Error(`gateMatrix: unknown gate ${JSON.stringify(gate)}`);
  if (angles.length !== spec.angles)
    throw new Error(`gateMatrix: ${gate} takes ${spec.angles} angle(s), got ${angles.length}`);
  const a = [...angles];
  const one = oneQubit(gate, a);
  if (one) return one;
  const ctl = CONTROLLED[gate];
  if (ctl) return controlled(oneQubit(ctl.base, a)!, ctl.controls);
  const c = Math.cos(a[0] / 2);
  const s = Math.sin(a[0] / 2);
  switch (gate) {
    case 'SWAP':
      return mat(2, [
        [0, 0, 1, 0],
        [1, 2, 1, 0],
        [2, 1, 1, 0],
        [3, 3, 1, 0],
      ]);
    case 'RXX':
      // exp(-iθ/2 X⊗X)
      return mat(2, [
        [0, 0, c, 0],
        [1, 1, c, 0],
        [2, 2, c, 0],
        [3, 3, c, 0],
        [0, 3, 0, -s],
        [1, 2, 0, -s],
        [2, 1, 0, -s],
        [3, 0, 0, -s],
      ]);
    case 'RYY':
      // exp(-iθ/2 Y⊗Y); Y⊗Y has −1 on the |00⟩↔|11⟩ corners and +1 on |01⟩↔|10⟩
      return mat(2, [
        [0, 0, c, 0],
        [1, 1, c, 0],
        [2, 2, c, 0],
        [3, 3, c, 0],
        [0, 3, 0, s],
        [1, 2, 0, -s],
        [2, 1, 0, -s],
        [3, 0, 0, s],
      ]);
    case 'RZZ':
      return mat(2, [
        [0, 0, c, -s],
        [1, 1, c, s],
        [2, 2, c, s],
        [3, 3, c, -s],
      ]);
    default:
      throw new Error(`gateMatrix: no matrix for ${gate}`);
  }
}

/** ∂f/∂a = Σ coeff · f(a + shift), exact for any expectation value of a circuit containing the gate. */
export interface ShiftRule {
  terms: { coeff: number; shift: number }[];
}

const HALF_PI = Math.PI / 2;
const TWO_TERM: ShiftRule = {
  terms: [
    { coeff: 0.5, shift: HALF_PI },
    { coeff: -0.5, shift: -HALF_PI },
  ],
};
// Controlled rotations have generator eigenvalues {0, ±½}, i.e. frequencies {½, 1} (Anselmetti et al. 2021).
const C_PLUS = (Math.SQRT2 + 1) / (4 * Math.SQRT2);
const C_MINUS = (Math.SQRT2 - 1) / (4 * Math.SQRT2);
const FOUR_TERM: ShiftRule = {
  terms: [
    { coeff: C_PLUS, shift: HALF_PI },
    { coeff: -C_PLUS, shift: -HALF_PI },
    { coeff: -C_MINUS, shift: 3 * HALF_PI },
    { coeff: C_MINUS, shift: -3 * HALF_PI },
  ],
};

/**
 * Parameter-shift recipe for angle argument `argIndex` of `gate`. Every argument of every gate enters
 * through one factor exp(-i a G) of its exact primitive decomposition (see `primitives`), so a
 * generator spectrum with a single gap (Pauli rotations: ±½; phases: {0, 1}) gives the two-term rule
 * and a controlled Pauli rotation gives the four-term rule.
 */
export function shiftRule(gate: GateName, argIndex: number): ShiftRule {
  const spec = GATES[gate];
  if (!spec || argIndex < 0 || argIndex >= spec.angles || !Number.isInteger(argIndex))
    throw new Error(`shiftRule: ${gate} has no angle argument ${argIndex}`);
  const prim = primitives(gate)[primitiveOfArg(gate, argIndex)];
  return prim.kind === 'rot' && prim.controls > 0 ? FOUR_TERM : TWO_TERM;
}

/** Pauli rotation exp(-i a P/2) on the target, or phase diag(1, e^{ia}) on it, optionally controlled. */
export type PrimitiveKind = 'fixed' | 'rot' | 'phase' | 'rot2';

/**
 * One factor of a gate's exact decomposition, applied in list order (first factor acts first).
 * `arg` is the index of the gate's angle argument the factor depends on (fixed factors have none;
 * U2's RY(π/2) is a fixed factor). `wires` index into the op's wires.
 */
export interface Primitive {
  kind: PrimitiveKind;
  /** For 'fixed': the gate whose matrix it is, on `wires`. */
  gate?: GateName;
  /** For 'rot' and 'rot2': which Pauli rotates (rot2: P⊗P on two wires). */
  pauli?: 'X' | 'Y' | 'Z';
  arg?: number;
  /** For 'rot' with a constant angle (U2's π/2). */
  constAngle?: number;
  /** Number of leading wires that are controls. */
  controls: number;
  wires: number[];
}

const DECOMP: Partial<Record<GateName, Primitive[]>> = {
  RX: [{ kind: 'rot', pauli: 'X', arg: 0, controls: 0, wires: [0] }],
  RY: [{ kind: 'rot', pauli: 'Y', arg: 0, controls: 0, wires: [0] }],
  RZ: [{ kind: 'rot', pauli: 'Z', arg: 0, controls: 0, wires: [0] }],
  PhaseShift: [{ kind: 'phase', arg: 0, controls: 0, wires: [0] }],
  U1: [{ kind: 'phase', arg: 0, controls: 0, wires: [0] }],
  // Rot(φ,θ,ω) = RZ(ω) RY(θ) RZ(φ)
  Rot: [
    { kind: 'rot', pauli: 'Z', arg: 0, controls: 0, wires: [0] },
    { kind: 'rot', pauli: 'Y', arg: 1, controls: 0, wires: [0] },
    { kind: 'rot', pauli: 'Z', arg: 2, controls: 0, wires: [0] },
  ],
  // U3(θ,φ,λ) = P(φ) RY(θ) P(λ) exactly (no global phase left over)
  U3: [
    { kind: 'phase', arg: 2, controls: 0, wires: [0] },
    { kind: 'rot', pauli: 'Y', arg: 0, controls: 0, wires: [0] },
    { kind: 'phase', arg: 1, controls: 0, wires: [0] },
  ],
  U2: [
    { kind: 'phase', arg: 1, controls: 0, wires: [0] },
    { kind: 'rot', pauli: 'Y', constAngle: Math.PI / 2, controls: 0, wires: [0] },
    { kind: 'phase', arg: 0, controls: 0, wires: [0] },
  ],
  CRX: [{ kind: 'rot', pauli: 'X', arg: 0, controls: 1, wires: [0, 1] }],
  CRY: [{ kind: 'rot', pauli: 'Y', arg: 0, controls: 1, wires: [0, 1] }],
  CRZ: [{ kind: 'rot', pauli: 'Z', arg: 0, controls: 1, wires: [0, 1] }],
  CPhase: [{ kind: 'phase', arg: 0, controls: 1, wires: [0, 1] }],
  CU3: [
    { kind: 'phase', arg: 2, controls: 1, wires: [0, 1] },
    { kind: 'rot', pauli: 'Y', arg: 0, controls: 1, wires: [0, 1] },
    { kind: 'phase', arg: 1, controls: 1, wires: [0, 1] },
  ],
  RXX: [{ kind: 'rot2', pauli: 'X', arg: 0, controls: 0, wires: [0, 1] }],
  RYY: [{ kind: 'rot2', pauli: 'Y', arg: 0, controls: 0, wires: [0, 1] }],
  RZZ: [{ kind: 'rot2', pauli: 'Z', arg: 0, controls: 0, wires: [0, 1] }],
};

/** The exact decomposition of a gate into primitives (a fixed gate is its own single primitive). */
export function primitives(gate: GateName): Primitive[] {
  const d = DECOMP[gate];
  if (d) return d;
  const w = GATES[gate].wires;
  const controls = CONTROLLED[gate]?.controls ?? 0;
  return [{ kind: 'fixed', gate, controls, wires: Array.from({ length: w }, (_, i) => i) }];
}

function primitiveOfArg(gate: GateName, argIndex: number): number {
  const i = primitives(gate).findIndex((p) => p.arg === argIndex);
  if (i < 0) throw new Error(`shiftRule: ${gate} has no angle argument ${argIndex}`);
  return i;
}

/** Complex matrix product of two n×n interleaved matrices: a · b. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let re = 0;
      let im = 0;
      for (let k = 0; k < n; k++) {
        const ar = a[2 * (i * n + k)];
        const ai = a[2 * (i * n + k) + 1];
        const br = b[2 * (k * n + j)];
        const bi = b[2 * (k * n + j) + 1];
        re += ar * br - ai * bi;
        im += ar * bi + ai * br;
      }
      out[2 * (i * n + j)] = re;
      out[2 * (i * n + j) + 1] = im;
    }
  return out;
}

/** Dense matrix of a primitive at angle `a` on its own wires (controls first): exp(−i a G) for a generator G. */
export function primitiveMatrix(pr: Primitive, a: number): Float64Array {
  if (pr.kind === 'fixed') return gateMatrix(pr.gate!);
  const angle = pr.arg === undefined ? (pr.constAngle ?? 0) : a;
  if (pr.kind === 'rot2') return gateMatrix(`R${pr.pauli!}${pr.pauli!}` as GateName, [angle]);
  const target =
    pr.kind === 'phase'
      ? gateMatrix('PhaseShift', [angle])
      : gateMatrix(`R${pr.pauli!}` as GateName, [angle]);
  return pr.controls === 0 ? target : controlled(target, pr.controls);
}

/**
 * Dense generator G of a primitive on its own wires, with primitiveMatrix(pr, a) = exp(−i a G): P/2 for a Pauli
 * rotation (P⊗P/2 on two wires), −|1⟩⟨1| for a phase, each times the projector onto the controls being set.
 * Undefined for a fixed primitive.
 */
export function primitiveGenerator(pr: Primitive): Float64Array | undefined {
  if (pr.kind === 'fixed') return undefined;
  if (pr.kind === 'rot2') {
    const p = gateMatrix(pr.pauli!);
    const pp = kron2(p, p);
    for (let i = 0; i < pp.length; i++) pp[i] *= 0.5;
    return pp;
  }
  const g =
    pr.kind === 'phase' ? m2([0, 0], [0, 0], [0, 0], [-1, 0]) : gateMatrix(pr.pauli!).map((x) => 0.5 * x);
  if (pr.controls === 0) return g;
  // Π(controls set) ⊗ g: zero outside the last 2×2 block
  const out = controlled(g, pr.controls);
  const d = 1 << (pr.controls + 1);
  for (let i = 0; i < d - 2; i++) out[2 * (i * d + i)] = 0;
  return out;
}

/** Kronecker product of two 2×2 interleaved matrices (a acts on the more significant wire). */
function kron2(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(32);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++)
      for (let k = 0; k < 2; k++)
        for (let l = 0; l < 2; l++) {
          const ar = a[2 * (2 * i + j)];
          const ai = a[2 * (2 * i + j) + 1];
          const br = b[2 * (2 * k + l)];
          const bi = b[2 * (2 * k + l) + 1];
          const at = 2 * ((2 * i + k) * 4 + (2 * j + l));
          out[at] = ar * br - ai * bi;
          out[at + 1] = ar * bi + ai * br;
        }
  return out;
}

/**
 * Everything the simulators need to know about one gate, in one place: its wires and angle arguments (from the
 * circuit record's GATES), its controls and the gate they control, its dense matrix, its exact decomposition into
 * single-angle primitives, and per angle argument its parameter-shift rule and generator.
 */
export interface GateRecord {
  readonly name: GateName;
  readonly wires: number;
  readonly angles: number;
  /** How many leading wires are controls (CNOT 1, Toffoli 2). */
  readonly controls: number;
  /** The gate on the wires after the controls (CNOT: X, CRX: RX, U1: PhaseShift; otherwise the gate itself). */
  readonly base: GateName;
  /** Diagonal in the computational basis at every angle (Z, S, T, RZ, CZ, CPhase, RZZ…). */
  readonly diagonal: boolean;
  /** Dense matrix on the gate's wires (first wire most significant). */
  matrix(angles: readonly number[]): Float64Array;
  /** Exact decomposition into single-angle primitives, in the order they act. */
  readonly decomposition: readonly Primitive[];
  /** Parameter-shift rule of angle argument `arg`. */
  shiftRule(arg: number): ShiftRule;
  /**
   * The generator of angle argument `arg`: the decomposition's factor it enters (exp(−i a G) on that primitive's
   * wires) and G there, dense.
   */
  generator(arg: number): { primitive: number; matrix: Float64Array };
}

function makeRecord(name: GateName): GateRecord {
  const { wires, angles } = GATES[name];
  const decomposition = primitives(name);
  // off-diagonal entries of a diagonal gate are exact zeros at every angle, so one generic point decides
  const m = gateMatrix(
    name,
    Array.from({ length: angles }, (_, i) => 0.3 + 0.4 * i),
  );
  const d = 1 << wires;
  let diagonal = true;
  for (let r = 0; r < d; r++)
    for (let c = 0; c < d; c++)
      if (r !== c && (m[2 * (r * d + c)] !== 0 || m[2 * (r * d + c) + 1] !== 0)) diagonal = false;
  return {
    name,
    wires,
    angles,
    controls: CONTROLLED[name]?.controls ?? 0,
    base: CONTROLLED[name]?.base ?? (name === 'U1' ? 'PhaseShift' : name),
    diagonal,
    matrix: (a) => gateMatrix(name, a),
    decomposition,
    shiftRule: (arg) => shiftRule(name, arg),
    generator(arg) {
      const primitive = primitiveOfArg(name, arg);
      return { primitive, matrix: primitiveGenerator(decomposition[primitive])! };
    },
  };
}

/** The record of every gate. */
export const GATE_RECORDS: Readonly<Record<GateName, GateRecord>> = Object.fromEntries(
  (Object.keys(GATES) as GateName[]).map((g) => [g, makeRecord(g)]),
) as Record<GateName, GateRecord>;
