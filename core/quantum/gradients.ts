// Gradient methods that only need an evaluator of expectation values: parameter shift (exact, works
// with shots and noise because it only runs shifted circuits) and central finite differences (a test
// utility). The adjoint method lives with the backend that owns the state (cpu/engine.ts).
import type { BatchRequest } from './backend';
import type { Angle, Circuit, GateOp, Operation } from './circuit';
import { observablesOf } from './circuit';
import { shiftRule } from './gates';

/** Returns (batch, numObservables) expectation values for a request. */
export type Evaluate = (req: BatchRequest) => Promise<Float64Array>;

export interface ShiftGrad {
  /** ∂L/∂θ summed over the batch. */
  dParams: Float64Array;
  /** ∂L/∂x, (batch, numInputs); only input-fed gate angles contribute (amplitude inputs are not shiftable). */
  dInputs: Float64Array;
}

/**
 * The request with angle `ai` of op `oi` evaluated at its value + shift for every row, without
 * touching other gates that share its parameter or feature: the angle is re-pointed at a fresh
 * parameter (param source) or a fresh input column (input source) that holds the shifted value.
 */
function shiftedRequest(req: BatchRequest, oi: number, ai: number, shift: number): BatchRequest {
  const c = req.circuit;
  const op = c.ops[oi] as GateOp;
  const a = op.angles[ai];
  const replace = (na: Angle, extra: Partial<Circuit>): Circuit => ({
    ...c,
    ...extra,
    ops: c.ops.map((o, i): Operation =>
      i === oi ? { ...op, angles: op.angles.map((x, j) => (j === ai ? na : x)) } : o,
    ),
  });
  if (a.kind === 'const') return { ...req, circuit: replace({ kind: 'const', value: a.value + shift }, {}) };
  const scale = a.scale ?? 1;
  if (a.kind === 'param') {
    const params = Float64Array.from({ length: c.numParams + 1 }, (_, i) =>
      i < c.numParams ? req.params[i] : scale * req.params[a.index] + shift,
    );
    return {
      ...req,
      params,
      circuit: replace({ kind: 'param', index: c.numParams }, { numParams: c.numParams + 1 }),
    };
  }
  const ni = c.numInputs;
  const inputs = new Float64Array(req.batch * (ni + 1));
  for (let b = 0; b < req.batch; b++) {
    for (let i = 0; i < ni; i++) inputs[b * (ni + 1) + i] = req.inputs[b * ni + i];
    inputs[b * (ni + 1) + ni] = scale * req.inputs[b * ni + a.index] + shift;
  }
  return { ...req, inputs, circuit: replace({ kind: 'input', index: ni }, { numInputs: ni + 1 }) };
}

/**
 * Parameter-shift vector-Jacobian product: for every gate angle that is trainable or input-fed, runs
 * the gate's shift rule (two- or four-term) and contracts with dExpvals. Every such angle is
 * shifted separately, so the cost is (terms × differentiable angles) evaluations of the batch.
 */
export async function parameterShiftVjp(
  evaluate: Evaluate,
  req: BatchRequest,
  dExpvals: ArrayLike<number>,
): Promise<ShiftGrad> {
  const c = req.circuit;
  const nObs = observablesOf(c).length;
  if (dExpvals.length !== req.batch * nObs)
    throw new Error(
      `dExpvals: need batch × numObservables = ${req.batch * nObs} values, got ${dExpvals.length}`,
    );
  const dParams = new Float64Array(c.numParams);
  const dInputs = new Float64Array(req.batch * c.numInputs);
  for (let oi = 0; oi < c.ops.length; oi++) {
    const op = c.ops[oi];
    if (op.type !== 'gate') continue;
    for (let ai = 0; ai < op.angles.length; ai++) {
      const a = op.angles[ai];
      if (a.kind === 'const') continue;
      const rule = shiftRule(op.gate, ai);
      // dAngle[b] = Σ_terms coeff · Σ_o g[b,o] · f_o(angle + shift)
      const dAngle = new Float64Array(req.batch);
      for (const t of rule.terms) {
        const f = await evaluate(shiftedRequest(req, oi, ai, t.shift));
        for (let b = 0; b < req.batch; b++) {
          let acc = 0;
          for (let o = 0; o < nObs; o++) acc += dExpvals[b * nObs + o] * f[b * nObs + o];
          dAngle[b] += t.coeff * acc;
        }
      }
      const scale = a.scale ?? 1;
      for (let b = 0; b < req.batch; b++) {
        if (a.kind === 'param') dParams[a.index] += scale * dAngle[b];
        else dInputs[b * c.numInputs + a.index] += scale * dAngle[b];
      }
    }
  }
  return { dParams, dInputs };
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
