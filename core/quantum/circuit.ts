// The circuit record: a serializable, immutable description of a batched variational circuit.
// It is what the store keeps, what the UI draws and what every backend runs (docs/circuit-format.md).
// Wire 0 is the most significant bit of a basis-state index, as in PennyLane.

/** Every gate the simulator knows, with its wire count and number of angle arguments. */
export const GATES = {
  I: { wires: 1, angles: 0 },
  X: { wires: 1, angles: 0 },
  Y: { wires: 1, angles: 0 },
  Z: { wires: 1, angles: 0 },
  H: { wires: 1, angles: 0 },
  S: { wires: 1, angles: 0 },
  Sdg: { wires: 1, angles: 0 },
  T: { wires: 1, angles: 0 },
  Tdg: { wires: 1, angles: 0 },
  SX: { wires: 1, angles: 0 },
  RX: { wires: 1, angles: 1 },
  RY: { wires: 1, angles: 1 },
  RZ: { wires: 1, angles: 1 },
  PhaseShift: { wires: 1, angles: 1 },
  Rot: { wires: 1, angles: 3 }, // Rot(φ,θ,ω) = RZ(ω) RY(θ) RZ(φ)
  U1: { wires: 1, angles: 1 },
  U2: { wires: 1, angles: 2 }, // U2(φ,λ)
  U3: { wires: 1, angles: 3 }, // U3(θ,φ,λ)
  CNOT: { wires: 2, angles: 0 },
  CY: { wires: 2, angles: 0 },
  CZ: { wires: 2, angles: 0 },
  CH: { wires: 2, angles: 0 },
  SWAP: { wires: 2, angles: 0 },
  CRX: { wires: 2, angles: 1 },
  CRY: { wires: 2, angles: 1 },
  CRZ: { wires: 2, angles: 1 },
  CPhase: { wires: 2, angles: 1 }, // also known as CU1
  CU3: { wires: 2, angles: 3 },
  RXX: { wires: 2, angles: 1 },
  RYY: { wires: 2, angles: 1 },
  RZZ: { wires: 2, angles: 1 },
  Toffoli: { wires: 3, angles: 0 },
} as const satisfies Record<string, { wires: number; angles: number }>;

export type GateName = keyof typeof GATES;
export const GATE_NAMES = Object.keys(GATES) as GateName[];

/** Aliases accepted on input and normalised away (the record always holds the canonical name). */
export const GATE_ALIASES: Readonly<Record<string, GateName>> = {
  CX: 'CNOT',
  CU1: 'CPhase',
  CCX: 'Toffoli',
  Id: 'I',
  P: 'PhaseShift',
};

/**
 * One angle argument of a gate. The angle a gate sees for batch row b is
 *   const:  value
 *   param:  scale · θ[index]              (trainable, shared across the batch)
 *   input:  scale · x[b, index]           (one row of features per batch sample)
 * `scale` defaults to 1.
 */
export type Angle =
  | { kind: 'const'; value: number }
  | { kind: 'param'; index: number; scale?: number }
  | { kind: 'input'; index: number; scale?: number };

export interface GateOp {
  type: 'gate';
  gate: GateName;
  /** Controls first, then target(s): CNOT [control, target], Toffoli [c0, c1, target]. */
  wires: number[];
  angles: Angle[];
}

/**
 * State preparation from input features x[b, start .. start+length): L2-normalised and zero-padded
 * to 2^wires.length amplitudes on the given wires (which must still be |0…0⟩ when it runs; in
 * practice it is the first operation). The norm is reported by the simulator so callers can
 * restore scale.
 */
export interface AmplitudeOp {
  type: 'amplitude';
  wires: number[];
  start: number;
  length: number;
}

export type Operation = GateOp | AmplitudeOp;

/** A Pauli-string observable: coefficient times a tensor product of single-wire Paulis. */
export interface PauliTerm {
  coeff?: number;
  /** e.g. [{wire: 0, pauli: 'Z'}, {wire: 3, pauli: 'X'}]; wires not listed carry I. */
  ops: { wire: number; pauli: 'X' | 'Y' | 'Z' }[];
}

export interface Circuit {
  /** Number of wires (qubits). */
  qubits: number;
  /** Length of the trainable parameter vector θ. */
  numParams: number;
  /** Features per batch row. */
  numInputs: number;
  ops: Operation[];
  /** Expectation values returned by a forward pass, in order; defaults to ⟨Z⟩ on every wire. */
  observables?: PauliTerm[];
}

export class CircuitError extends Error {
  constructor(
    message: string,
    /** Where in the record the problem is, e.g. "ops[3].wires[1]". */
    readonly field: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'CircuitError';
  }
}

export const MAX_QUBITS = 30;

/** Canonical gate name for a name or alias, or undefined. */
export function canonicalGate(name: string): GateName | undefined {
  if (name in GATES) return name as GateName;
  return GATE_ALIASES[name];
}

function checkWire(w: unknown, qubits: number, field: string): number {
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w >= qubits) {
    throw new CircuitError(`wire must be an integer in [0, ${qubits - 1}], got ${JSON.stringify(w)}`, field);
  }
  return w;
}

function checkAngle(a: unknown, c: Pick<Circuit, 'numParams' | 'numInputs'>, field: string): Angle {
  if (typeof a === 'number') {
    if (!Number.isFinite(a)) throw new CircuitError('angle must be a finite number', field);
    return { kind: 'const', value: a };
  }
  if (typeof a !== 'object' || a === null)
    throw new CircuitError('angle must be a number or an object', field);
  const o = a as Record<string, unknown>;
  const scale = o.scale === undefined ? undefined : Number(o.scale);
  if (scale !== undefined && !Number.isFinite(scale))
    throw new CircuitError('scale must be finite', `${field}.scale`);
  switch (o.kind) {
    case 'const':
      if (typeof o.value !== 'number' || !Number.isFinite(o.value))
        throw new CircuitError('value must be a finite number', `${field}.value`);
      return { kind: 'const', value: o.value };
    case 'param':
    case 'input': {
      const limit = o.kind === 'param' ? c.numParams : c.numInputs;
      if (typeof o.index !== 'number' || !Number.isInteger(o.index) || o.index < 0 || o.index >= limit) {
        throw new CircuitError(
          `${o.kind} index must be an integer in [0, ${limit - 1}], got ${JSON.stringify(o.index)}`,
          `${field}.index`,
        );
      }
      return scale === undefined || scale === 1
        ? { kind: o.kind, index: o.index }
        : { kind: o.kind, index: o.index, scale };
    }
    default:
      throw new CircuitError(
        `kind must be "const", "param" or "input", got ${JSON.stringify(o.kind)}`,
        `${field}.kind`,
      );
  }
}

/**
 * Validates an untrusted value (parsed JSON) and returns a normalised, frozen circuit.
 * Throws a CircuitError naming the field on the first problem. Angles may be given as bare numbers
 * (constants) and gate names as aliases; both are normalised.
 */
export function parseCircuit(value: unknown): Circuit {
  if (typeof value !== 'object' || value === null)
    throw new CircuitError('a circuit must be an object', 'circuit');
  const v = value as Record<string, unknown>;
  const int = (x: unknown, field: string, min: number, max: number): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max)
      throw new CircuitError(`must be an integer in [${min}, ${max}], got ${JSON.stringify(x)}`, field);
    return x;
  };
  const qubits = int(v.qubits, 'qubits', 1, MAX_QUBITS);
  const numParams = int(v.numParams ?? 0, 'numParams', 0, 1 << 24);
  const numInputs = int(v.numInputs ?? 0, 'numInputs', 0, 1 << 24);
  if (!Array.isArray(v.ops)) throw new CircuitError('must be an array of operations', 'ops');
  const ops: Operation[] = v.ops.map((raw, i) => {
    const f = `ops[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new CircuitError('operation must be an object', f);
    const o = raw as Record<string, unknown>;
    const type = o.type ?? 'gate';
    const wiresRaw = o.wires;
    if (!Array.isArray(wiresRaw)) throw new CircuitError('must be an array of wire indices', `${f}.wires`);
    const wires = wiresRaw.map((w, j) => checkWire(w, qubits, `${f}.wires[${j}]`));
    if (new Set(wires).size !== wires.length) throw new CircuitError('wires must be distinct', `${f}.wires`);
    if (type === 'amplitude') {
      if (wires.length === 0) throw new CircuitError('needs at least one wire', `${f}.wires`);
      const start = int(o.start ?? 0, `${f}.start`, 0, Math.max(0, numInputs - 1));
      const length = int(o.length, `${f}.length`, 1, 1 << wires.length);
      if (start + length > numInputs)
        throw new CircuitError(
          `start + length (${start + length}) exceeds numInputs (${numInputs})`,
          `${f}.length`,
        );
      return Object.freeze({ type: 'amplitude', wires, start, length }) as AmplitudeOp;
    }
    if (type !== 'gate')
      throw new CircuitError(`type must be "gate" or "amplitude", got ${JSON.stringify(type)}`, `${f}.type`);
    const gate = typeof o.gate === 'string' ? canonicalGate(o.gate) : undefined;
    if (!gate) throw new CircuitError(`unknown gate ${JSON.stringify(o.gate)}`, `${f}.gate`);
    const spec = GATES[gate];
    if (wires.length !== spec.wires)
      throw new CircuitError(`${gate} acts on ${spec.wires} wire(s), got ${wires.length}`, `${f}.wires`);
    const anglesRaw = o.angles ?? [];
    if (!Array.isArray(anglesRaw)) throw new CircuitError('must be an array', `${f}.angles`);
    if (anglesRaw.length !== spec.angles)
      throw new CircuitError(`${gate} takes ${spec.angles} angle(s), got ${anglesRaw.length}`, `${f}.angles`);
    const angles = anglesRaw.map((a, j) => checkAngle(a, { numParams, numInputs }, `${f}.angles[${j}]`));
    return Object.freeze({ type: 'gate', gate, wires, angles }) as GateOp;
  });
  let observables: PauliTerm[] | undefined;
  if (v.observables !== undefined) {
    if (!Array.isArray(v.observables))
      throw new CircuitError('must be an array of Pauli terms', 'observables');
    observables = v.observables.map((t, i) => {
      const f = `observables[${i}]`;
      if (typeof t !== 'object' || t === null || !Array.isArray((t as PauliTerm).ops))
        throw new CircuitError('a Pauli term needs an ops array', f);
      const term = t as PauliTerm;
      const coeff = term.coeff ?? 1;
      if (!Number.isFinite(coeff)) throw new CircuitError('coeff must be finite', `${f}.coeff`);
      const seen = new Set<number>();
      const pops = term.ops.map((p, j) => {
        const w = checkWire(p?.wire, qubits, `${f}.ops[${j}].wire`);
        if (seen.has(w)) throw new CircuitError('each wire may appear once per term', `${f}.ops[${j}].wire`);
        seen.add(w);
        if (p.pauli !== 'X' && p.pauli !== 'Y' && p.pauli !== 'Z')
          throw new CircuitError(
            `pauli must be X, Y or Z, got ${JSON.stringify(p.pauli)}`,
            `${f}.ops[${j}].pauli`,
          );
        return { wire: w, pauli: p.pauli };
      });
      return { coeff, ops: pops };
    });
  }
  return Object.freeze({ qubits, numParams, numInputs, ops: Object.freeze(ops) as Operation[], observables });
}

/** ⟨Z⟩ on every wire: the default observables. */
export function zObservables(qubits: number): PauliTerm[] {
  return Array.from({ length: qubits }, (_, w) => ({ coeff: 1, ops: [{ wire: w, pauli: 'Z' as const }] }));
}

export function observablesOf(c: Circuit): PauliTerm[] {
  return c.observables ?? zObservables(c.qubits);
}

/** Evaluates an angle for batch row b. */
export function angleValue(
  a: Angle,
  params: ArrayLike<number>,
  inputs: ArrayLike<number>,
  numInputs: number,
  b: number,
): number {
  switch (a.kind) {
    case 'const':
      return a.value;
    case 'param':
      return (a.scale ?? 1) * params[a.index];
    case 'input':
      return (a.scale ?? 1) * inputs[b * numInputs + a.index];
  }
}

/**
 * Small builder so templates and methods can write circuits without spelling out records.
 * `p()` allocates the next trainable parameter; `x(i)` refers to input feature i.
 */
export class CircuitBuilder {
  private readonly opsList: Operation[] = [];
  private params = 0;
  private inputs: number;
  private obs: PauliTerm[] | undefined;

  constructor(
    readonly qubits: number,
    numInputs = 0,
  ) {
    this.inputs = numInputs;
  }

  /** A fresh trainable parameter (optionally scaled). */
  p(scale?: number): Angle {
    const index = this.params++;
    return scale === undefined ? { kind: 'param', index } : { kind: 'param', index, scale };
  }

  /** Input feature i (the input count grows to cover it). */
  x(index: number, scale?: number): Angle {
    if (index + 1 > this.inputs) this.inputs = index + 1;
    return scale === undefined ? { kind: 'input', index } : { kind: 'input', index, scale };
  }

  c(value: number): Angle {
    return { kind: 'const', value };
  }

  gate(gate: GateName, wires: number[], angles: (Angle | number)[] = []): this {
    this.opsList.push({
      type: 'gate',
      gate,
      wires: [...wires],
      angles: angles.map((a) => (typeof a === 'number' ? { kind: 'const', value: a } : a)),
    });
    return this;
  }

  amplitude(wires: number[], start: number, length: number): this {
    if (start + length > this.inputs) this.inputs = start + length;
    this.opsList.push({ type: 'amplitude', wires: [...wires], start, length });
    return this;
  }

  observe(terms: PauliTerm[]): this {
    this.obs = terms;
    return this;
  }

  get numParams(): number {
    return this.params;
  }

  /** Validates and freezes the circuit. */
  build(): Circuit {
    return parseCircuit({
      qubits: this.qubits,
      numParams: this.params,
      numInputs: this.inputs,
      ops: this.opsList,
      observables: this.obs,
    });
  }
}
