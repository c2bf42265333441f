// Noise channels as Kraus operators and a noise model that attaches them after gates.
// Conventions follow PennyLane (qml.DepolarizingChannel etc.):
//   depolarizing(p):      K0 = √(1−p)·I, K1..3 = √(p/3)·X, Y, Z       (on |0⟩: ⟨Z⟩ = 1 − 4p/3)
//   amplitudeDamping(γ):  K0 = [[1,0],[0,√(1−γ)]], K1 = [[0,√γ],[0,0]]
//   phaseDamping(γ):      K0 = [[1,0],[0,√(1−γ)]], K1 = [[0,0],[0,√γ]]
//   bitFlip(p):           K0 = √(1−p)·I, K1 = √p·X
//   phaseFlip(p):         K0 = √(1−p)·I, K1 = √p·Z
// Readout error is classical: a measured 0 reads as 1 with probability p01, a 1 reads as 0 with p10.
import { canonicalGate, type GateName, type GateOp } from './circuit';

export type ChannelSpec =
  | { type: 'depolarizing'; p: number }
  | { type: 'amplitudeDamping'; gamma: number }
  | { type: 'phaseDamping'; gamma: number }
  | { type: 'bitFlip'; p: number }
  | { type: 'phaseFlip'; p: number };

export type ChannelType = ChannelSpec['type'];

export interface NoiseRule {
  channel: ChannelSpec;
  /** Gate kinds after which the channel acts (on each wire of the gate), or 'all' gates. */
  after: GateName[] | 'all';
  /** Restrict to these wires (the channel acts on the gate's wires that are listed). */
  wires?: number[];
}

export interface ReadoutError {
  /** P(read 1 | state 0). */
  p01: number;
  /** P(read 0 | state 1). */
  p10: number;
  /** Wires it applies to; all wires when absent. */
  wires?: number[];
}

export interface NoiseModel {
  rules: NoiseRule[];
  readout?: ReadoutError;
}

export class NoiseError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'NoiseError';
  }
}

const CHANNEL_PARAM: Record<ChannelType, 'p' | 'gamma'> = {
  depolarizing: 'p',
  amplitudeDamping: 'gamma',
  phaseDamping: 'gamma',
  bitFlip: 'p',
  phaseFlip: 'p',
};

function probability(x: unknown, field: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1)
    throw new NoiseError(`must be a probability in [0, 1], got ${JSON.stringify(x)}`, field);
  return x;
}

function wireList(x: unknown, qubits: number | undefined, field: string): number[] {
  if (!Array.isArray(x)) throw new NoiseError('must be an array of wire indices', field);
  return x.map((w, i) => {
    const max = qubits === undefined ? Number.MAX_SAFE_INTEGER : qubits - 1;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > max)
      throw new NoiseError(
        `wire must be an integer in [0, ${max}], got ${JSON.stringify(w)}`,
        `${field}[${i}]`,
      );
    return w;
  });
}

/** Validates an untrusted noise model (parsed JSON). `qubits` bounds the wire lists when given. */
export function parseNoiseModel(value: unknown, qubits?: number): NoiseModel {
  if (typeof value !== 'object' || value === null)
    throw new NoiseError('a noise model must be an object', 'noise');
  const v = value as Record<string, unknown>;
  const rulesRaw = v.rules ?? [];
  if (!Array.isArray(rulesRaw)) throw new NoiseError('must be an array', 'noise.rules');
  const rules = rulesRaw.map((r, i): NoiseRule => {
    const f = `noise.rules[${i}]`;
    if (typeof r !== 'object' || r === null) throw new NoiseError('a rule must be an object', f);
    const o = r as Record<string, unknown>;
    const ch = o.channel as Record<string, unknown> | null | undefined;
    if (typeof ch !== 'object' || ch === null)
      throw new NoiseError('must be an object like {"type": "depolarizing", "p": 0.01}', `${f}.channel`);
    const type = ch.type as ChannelType;
    if (!(typeof type === 'string' && type in CHANNEL_PARAM))
      throw new NoiseError(
        `type must be one of ${Object.keys(CHANNEL_PARAM).join(', ')}, got ${JSON.stringify(ch.type)}`,
        `${f}.channel.type`,
      );
    const key = CHANNEL_PARAM[type];
    const value = probability(ch[key], `${f}.channel.${key}`);
    const channel = (key === 'p' ? { type, p: value } : { type, gamma: value }) as ChannelSpec;
    let after: NoiseRule['after'];
    if (o.after === undefined || o.after === 'all') after = 'all';
    else if (Array.isArray(o.after))
      after = o.after.map((g, j) => {
        const name = typeof g === 'string' ? canonicalGate(g) : undefined;
        if (!name) throw new NoiseError(`unknown gate ${JSON.stringify(g)}`, `${f}.after[${j}]`);
        return name;
      });
    else throw new NoiseError('must be "all" or an array of gate names', `${f}.after`);
    const rule: NoiseRule = { channel, after };
    if (o.wires !== undefined) rule.wires = wireList(o.wires, qubits, `${f}.wires`);
    return rule;
  });
  const model: NoiseModel = { rules };
  if (v.readout !== undefined) {
    const r = v.readout as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null)
      throw new NoiseError('must be an object {p01, p10}', 'noise.readout');
    model.readout = {
      p01: probability(r.p01 ?? 0, 'noise.readout.p01'),
      p10: probability(r.p10 ?? 0, 'noise.readout.p10'),
    };
    if (r.wires !== undefined) model.readout.wires = wireList(r.wires, qubits, 'noise.readout.wires');
  }
  return model;
}

/** Kraus operators of a one-qubit channel, each 2×2 complex interleaved row-major. */
export function krausOperators(ch: ChannelSpec): Float64Array[] {
  const r = (x: number): number => Math.sqrt(x);
  switch (ch.type) {
    case 'depolarizing': {
      const a = r(1 - ch.p);
      const b = r(ch.p / 3);
      return [
        Float64Array.of(a, 0, 0, 0, 0, 0, a, 0),
        Float64Array.of(0, 0, b, 0, b, 0, 0, 0),
        Float64Array.of(0, 0, 0, -b, 0, b, 0, 0),
        Float64Array.of(b, 0, 0, 0, 0, 0, -b, 0),
      ];
    }
    case 'amplitudeDamping':
      return [
        Float64Array.of(1, 0, 0, 0, 0, 0, r(1 - ch.gamma), 0),
        Float64Array.of(0, 0, r(ch.gamma), 0, 0, 0, 0, 0),
      ];
    case 'phaseDamping':
      return [
        Float64Array.of(1, 0, 0, 0, 0, 0, r(1 - ch.gamma), 0),
        Float64Array.of(0, 0, 0, 0, 0, 0, r(ch.gamma), 0),
      ];
    case 'bitFlip':
      return [
        Float64Array.of(r(1 - ch.p), 0, 0, 0, 0, 0, r(1 - ch.p), 0),
        Float64Array.of(0, 0, r(ch.p), 0, r(ch.p), 0, 0, 0),
      ];
    case 'phaseFlip':
      return [
        Float64Array.of(r(1 - ch.p), 0, 0, 0, 0, 0, r(1 - ch.p), 0),
        Float64Array.of(r(ch.p), 0, 0, 0, 0, 0, -r(ch.p), 0),
      ];
  }
}

/** One channel instance placed after an operation: Kraus set on one wire. */
export interface PlacedChannel {
  wire: number;
  kraus: Float64Array[];
}

/**
 * The channels to apply after `op`, in rule order, each on every affected wire of the gate.
 * Kraus sets are cached per rule so callers can call this inside their op loop cheaply.
 */
export function channelsAfter(
  model: NoiseModel | undefined,
  op: GateOp,
  cache: Map<NoiseRule, Float64Array[]>,
): PlacedChannel[] {
  if (!model) return [];
  const out: PlacedChannel[] = [];
  for (const rule of model.rules) {
    if (rule.after !== 'all' && !rule.after.includes(op.gate)) continue;
    let kraus = cache.get(rule);
    if (!kraus) {
      kraus = krausOperators(rule.channel);
      cache.set(rule, kraus);
    }
    for (const w of op.wires) if (!rule.wires || rule.wires.includes(w)) out.push({ wire: w, kraus });
  }
  return out;
}

/** True when the model changes nothing (no rules with a non-zero strength, no readout error). */
export function isNoiseless(model: NoiseModel | undefined): boolean {
  if (!model) return true;
  const ruleIdle = model.rules.every((r) => ('p' in r.channel ? r.channel.p : r.channel.gamma) === 0);
  const ro = model.readout;
  return ruleIdle && (!ro || (ro.p01 === 0 && ro.p10 === 0));
}

/** Readout flip probabilities per wire ([p01, p10] pairs), zero where the readout error does not apply. */
export function readoutPerWire(readout: ReadoutError | undefined, qubits: number): Float64Array {
  const out = new Float64Array(2 * qubits);
  if (!readout) return out;
  for (let w = 0; w < qubits; w++) {
    if (readout.wires && !readout.wires.includes(w)) continue;
    out[2 * w] = readout.p01;
    out[2 * w + 1] = readout.p10;
  }
  return out;
}

/**
 * Applies readout error to a probability vector over `wires` (wire list order, first wire most
 * significant), in place: each listed wire's bit goes through its 2×2 confusion matrix.
 */
export function applyReadoutToProbs(
  probs: Float64Array,
  wires: readonly number[],
  flips: Float64Array,
): void {
  const k = wires.length;
  for (let j = 0; j < k; j++) {
    const p01 = flips[2 * wires[j]];
    const p10 = flips[2 * wires[j] + 1];
    if (p01 === 0 && p10 === 0) continue;
    const bit = 1 << (k - 1 - j);
    for (let i = 0; i < probs.length; i++) {
      if (i & bit) continue;
      const a = probs[i];
      const b = probs[i | bit];
      probs[i] = (1 - p01) * a + p10 * b;
      probs[i | bit] = p01 * a + (1 - p10) * b;
    }
  }
}
