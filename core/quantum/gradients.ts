// Gradient methods that only need an evaluator of expectation values: parameter shift (exact, works
// with shots and noise because it only runs shifted circuits), as a transform that returns the circuits to run
// and a combine step, and central finite differences (a test utility). The adjoint method lives with the
// backend that owns the state (cpu/adjoint.ts; the plain version in reference/adjoint.ts).
import type { AngleShifts, BatchRequest, ShiftedRequest, Simulator } from './backend';
import type { Angle, Circuit, Operation } from './circuit';
import { angleValue, observablesOf } from './circuit';
import { shiftRule } from './gates';

/**
 * Returns (batch, numObservables) expectation values for a request; `shifted`, where the backend has it
 * (Simulator.expvalShifted), evaluates a whole shifted batch in one call, and the transforms then run as one batch.
 */
export type Evaluate = ((req: BatchRequest) => Promise<Float64Array>) & {
  shifted?: (req: ShiftedRequest) => Promise<Float64Array>;
};

/** An Evaluate over a simulator's expectation values, batched where the simulator runs shifted batches. */
export function evaluatorOf(sim: Simulator): Evaluate {
  const f: Evaluate = async (r) => (await sim.expval(r)).expvals;
  if (sim.expvalShifted) f.shifted = (r) => sim.expvalShifted!(r);
  return f;
}

export interface ShiftGrad {
  /** ∂L/∂θ summed over the batch. */
  dParams: Float64Array;
  /** ∂L/∂x, (batch, numInputs); only input-fed gate angles contribute (amplitude inputs are not shiftable). */
  dInputs: Float64Array;
}

/**
 * A gradient method as a transform (PennyLane's `(tapes, processing_fn)`): the circuits to evaluate, and the step
 * that combines their expectation values (in the same order) with ∂L/∂expvals (batch, numObservables) into the
 * gradient. The circuits do not depend on ∂L/∂expvals, so one evaluation serves every combine (a Jacobian).
 * They come two ways: `batched`, one shifted batch of every circuit's rows (circuit i = rows [i·B, (i+1)·B)),
 * which a backend with Simulator.expvalShifted runs in one call (`split` cuts its output per circuit), and
 * `requests`, one BatchRequest per circuit (built on first use) for any other evaluator.
 */
export interface GradientTransform {
  readonly batched: ShiftedRequest;
  readonly requests: BatchRequest[];
  split(batchedExpvals: Float64Array): Float64Array[];
  combine(expvals: Float64Array[], dExpvals: ArrayLike<number>): ShiftGrad;
}

/**
 * Parameter shift as a transform: for every differentiable angle and each term of its two- or four-term rule, the
 * circuit with only that angle shifted — every other gate of every record that shares its parameter or feature is
 * left alone. As one batch, row (term i, b) is row b with angle `arg` of op `op` shifted (backend.ts
 * AngleShifts): the cpu backend binds the circuit once and rebuilds only the shifted angle's block or table when
 * the shift moves. As separate requests, the angle is re-pointed at a fresh parameter (a trainable angle) or a
 * fresh input column (an input-fed one); the terms of one angle share one circuit record (one compile).
 * combine contracts each circuit with dExpvals: ∂L/∂a[b] = Σ_terms coeff · Σ_o g[b,o] · f_o(a + shift).
 */
export function parameterShiftTransform(req: BatchRequest): GradientTransform {
  const c = req.circuit;
  const B = req.batch;
  const nObs = observablesOf(c).length;
  const N = c.numInputs;
  const P = c.numParams;
  const jobs: { op: number; arg: number; angle: Angle; coeff: number; shift: number }[] = [];
  c.ops.forEach((op, oi) => {
    if (op.type !== 'gate') return;
    op.angles.forEach((a, ai) => {
      if (a.kind === 'const') return;
      for (const t of shiftRule(op.gate, ai).terms)
        jobs.push({ op: oi, arg: ai, angle: a, coeff: t.coeff, shift: t.shift });
    });
  });
  const rows = jobs.length * B;
  const shifts: AngleShifts = {
    op: new Int32Array(rows),
    arg: new Int32Array(rows),
    delta: new Float64Array(rows),
    inputRow: new Int32Array(rows),
  };
  jobs.forEach((j, i) => {
    for (let b = 0; b < B; b++) {
      const r = i * B + b;
      shifts.op[r] = j.op;
      shifts.arg[r] = j.arg;
      shifts.delta[r] = j.shift;
      shifts.inputRow[r] = b;
    }
  });
  let requests: BatchRequest[] | null = null;
  return {
    batched: { circuit: c, params: req.params, inputs: req.inputs, inputRows: B, shifts },
    get requests() {
      return (requests ??= shiftRequests(req, jobs));
    },
    split(out) {
      if (out.length !== rows * nObs)
        throw new Error(
          `expvals: need ${rows} rows × ${nObs} observables = ${rows * nObs} values, got ${out.length}`,
        );
      return jobs.map((_, i) => out.subarray(i * B * nObs, (i + 1) * B * nObs));
    },
    combine(expvals, dExpvals) {
      if (dExpvals.length !== B * nObs)
        throw new Error(`dExpvals: need batch × numObservables = ${B * nObs} values, got ${dExpvals.length}`);
      if (expvals.length !== jobs.length)
        throw new Error(
          `expvals: need one array per shifted circuit (${jobs.length}), got ${expvals.length}`,
        );
      const dParams = new Float64Array(P);
      const dInputs = new Float64Array(B * N);
      jobs.forEach(({ angle: a, coeff }, i) => {
        const f = expvals[i];
        const scale = coeff * (a.kind === 'const' ? 0 : (a.scale ?? 1));
        for (let b = 0; b < B; b++) {
          let acc = 0;
          for (let o = 0; o < nObs; o++) acc += dExpvals[b * nObs + o] * f[b * nObs + o];
          if (a.kind === 'param') dParams[a.index] += scale * acc;
          else if (a.kind === 'input') dInputs[b * N + a.index] += scale * acc;
        }
      });
      return { dParams, dInputs };
    },
  };
}

/** One request per shifted circuit, the shifted angle re-pointed at a fresh parameter or input column. */
function shiftRequests(
  req: BatchRequest,
  jobs: { op: number; arg: number; angle: Angle; shift: number }[],
): BatchRequest[] {
  const c = req.circuit;
  const B = req.batch;
  const N = c.numInputs;
  const P = c.numParams;
  const circuits = new Map<string, Circuit>();
  return jobs.map(({ op: oi, arg: ai, angle: a, shift }) => {
    const key = `${oi}:${ai}`;
    let circuit = circuits.get(key);
    if (!circuit) {
      const op = c.ops[oi] as Extract<Operation, { type: 'gate' }>;
      const fresh: Angle = a.kind === 'param' ? { kind: 'param', index: P } : { kind: 'input', index: N };
      const ops = c.ops.map((o, i): Operation =>
        i === oi ? { ...op, angles: op.angles.map((x, j) => (j === ai ? fresh : x)) } : o,
      );
      circuit = a.kind === 'param' ? { ...c, ops, numParams: P + 1 } : { ...c, ops, numInputs: N + 1 };
      circuits.set(key, circuit);
    }
    if (a.kind === 'param') {
      const params = new Float64Array(P + 1);
      for (let i = 0; i < P; i++) params[i] = req.params[i];
      params[P] = angleValue(a, req.params, req.inputs, N, 0) + shift;
      return { circuit, params, inputs: req.inputs, batch: B };
    }
    const inputs = new Float64Array(B * (N + 1));
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) inputs[b * (N + 1) + i] = req.inputs[b * N + i];
      inputs[b * (N + 1) + N] = angleValue(a, req.params, req.inputs, N, b) + shift;
    }
    return { circuit, params: req.params, inputs, batch: B };
  });
}

/**
 * Parameter-shift vector-Jacobian product: the two- or four-term shift rule of every trainable or input-fed gate
 * angle, contracted with dExpvals (parameterShiftTransform's circuits, evaluated as one batch where `evaluate`
 * has `shifted`, else in order one request at a time; then its combine).
 */
export async function parameterShiftVjp(
  evaluate: Evaluate,
  req: BatchRequest,
  dExpvals: ArrayLike<number>,
): Promise<ShiftGrad> {
  const t = parameterShiftTransform(req);
  return t.combine(await evaluateAll(evaluate, t), dExpvals);
}

/**
 * The expectation values of every circuit of a transform, in order: one batched call where the evaluator has
 * `shifted`, else one request at a time (each may be large).
 */
export async function evaluateAll(evaluate: Evaluate, t: GradientTransform): Promise<Float64Array[]> {
  if (t.batched.shifts.op.length === 0) return [];
  if (evaluate.shifted) return t.split(await evaluate.shifted(t.batched));
  const out: Float64Array[] = [];
  for (const r of t.requests) out.push(await evaluate(r));
  return out;
}

/**
 * The Jacobian of the observables by the parameter-shift rule: jParams (batch, nObs, numParams) and jInputs
 * (batch, nObs, numInputs). The shifted circuits are evaluated once and combined once per (row, observable), so
 * with shots every entry shares the same samples, as when one measurement gives all wires.
 */
export async function shiftJacobian(
  evaluate: Evaluate,
  req: BatchRequest,
  nObs: number,
): Promise<{ jParams: Float64Array; jInputs: Float64Array }> {
  const P = req.circuit.numParams;
  const N = req.circuit.numInputs;
  const B = req.batch;
  const t = parameterShiftTransform(req);
  const expvals = await evaluateAll(evaluate, t);
  const jParams = new Float64Array(B * nObs * P);
  const jInputs = new Float64Array(B * nObs * N);
  const d = new Float64Array(B * nObs);
  for (let i = 0; i < B * nObs; i++) {
    d.fill(0);
    d[i] = 1;
    const g = t.combine(expvals, d);
    const b = Math.floor(i / nObs);
    jParams.set(g.dParams, i * P);
    jInputs.set(g.dInputs.subarray(b * N, (b + 1) * N), i * N);
  }
  return { jParams, jInputs };
}

/**
 * Central finite differences in f64 of every expectation value with respect to θ and x, for tests:
 * returns jParams (batch, numObs, numParams) and jInputs (batch, numObs, numInputs).
 */
export async function finiteDifferenceJacobian(
  evaluate: Evaluate,
  req: BatchRequest,
  h = 1e-6,
): Promise<{ jParams: Float64Array; jInputs: Float64Array }> {
  const c = req.circuit;
  const nObs = observablesOf(c).length;
  const B = req.batch;
  const P = c.numParams;
  const N = c.numInputs;
  const jParams = new Float64Array(B * nObs * P);
  const jInputs = new Float64Array(B * nObs * N);
  const params = Float64Array.from(req.params);
  const inputs = Float64Array.from(req.inputs);
  for (let k = 0; k < P; k++) {
    const v = params[k];
    params[k] = v + h;
    const fp = await evaluate({ ...req, params: params.slice() });
    params[k] = v - h;
    const fm = await evaluate({ ...req, params: params.slice() });
    params[k] = v;
    for (let b = 0; b < B; b++)
      for (let o = 0; o < nObs; o++)
        jParams[(b * nObs + o) * P + k] = (fp[b * nObs + o] - fm[b * nObs + o]) / (2 * h);
  }
  // perturbing feature k in every row at once is exact: rows are independent
  for (let k = 0; k < N; k++) {
    for (let b = 0; b < B; b++) inputs[b * N + k] += h;
    const fp = await evaluate({ ...req, inputs: inputs.slice() });
    for (let b = 0; b < B; b++) inputs[b * N + k] -= 2 * h;
    const fm = await evaluate({ ...req, inputs: inputs.slice() });
    for (let b = 0; b < B; b++) inputs[b * N + k] += h;
    for (let b = 0; b < B; b++)
      for (let o = 0; o < nObs; o++)
        jInputs[(b * nObs + o) * N + k] = (fp[b * nObs + o] - fm[b * nObs + o]) / (2 * h);
  }
  return { jParams, jInputs };
}
