// Gradient methods that only need an evaluator of expectation values: parameter shift (exact, works
// with shots and noise because it only runs shifted circuits), as a transform that returns the circuits to run
// and a combine step, and central finite differences (a test utility). The adjoint method lives with the
// backend that owns the state (cpu/adjoint.ts; the plain version in reference/adjoint.ts).
import type { BatchRequest } from './backend';
import type { Angle, Circuit, Operation } from './circuit';
import { angleValue, observablesOf } from './circuit';
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
 * A gradient method as a transform (PennyLane's `(tapes, processing_fn)`): the requests to evaluate, and the step
 * that combines their expectation values (in the same order) with ∂L/∂expvals (batch, numObservables) into the
 * gradient. The requests do not depend on ∂L/∂expvals, so one evaluation serves every combine (a Jacobian).
 */
export interface GradientTransform {
  readonly requests: BatchRequest[];
  combine(expvals: Float64Array[], dExpvals: ArrayLike<number>): ShiftGrad;
}

/**
 * Parameter shift as a transform: one request per (differentiable angle, shift term), in which only that angle is
 * re-pointed — at a fresh parameter holding its shifted value (a trainable angle: the row's matrices are still
 * built once per call) or a fresh input column (an input-fed angle) — and every other gate of every record that
 * shares its parameter or feature is left alone. The terms of one angle share one circuit record (one compile).
 * combine contracts each request with dExpvals: ∂L/∂a[b] = Σ_terms coeff · Σ_o g[b,o] · f_o(a + shift).
 *
 * (Stacking every shifted evaluation into one batched request, each angle an input column of its own, was tried:
 * it makes every block and diagonal run of the circuit per-row, rebuilt for every row, and measured 8× slower per
 * row on the QD-LLM circuit; see docs/simulator-performance.md.)
 */
export function parameterShiftTransform(req: BatchRequest): GradientTransform {
  const c = req.circuit;
  const B = req.batch;
  const nObs = observablesOf(c).length;
  const N = c.numInputs;
  const P = c.numParams;
  const jobs: { angle: Angle; coeff: number }[] = [];
  const requests: BatchRequest[] = [];
  c.ops.forEach((op, oi) => {
    if (op.type !== 'gate') return;
    op.angles.forEach((a, ai) => {
      if (a.kind === 'const') return;
      const fresh: Angle = a.kind === 'param' ? { kind: 'param', index: P } : { kind: 'input', index: N };
      const ops = c.ops.map((o, i): Operation =>
        i === oi ? { ...op, angles: op.angles.map((x, j) => (j === ai ? fresh : x)) } : o,
      );
      const circuit: Circuit =
        a.kind === 'param' ? { ...c, ops, numParams: P + 1 } : { ...c, ops, numInputs: N + 1 };
      for (const t of shiftRule(op.gate, ai).terms) {
        jobs.push({ angle: a, coeff: t.coeff });
        if (a.kind === 'param') {
          const params = new Float64Array(P + 1);
          for (let i = 0; i < P; i++) params[i] = req.params[i];
          params[P] = angleValue(a, req.params, req.inputs, N, 0) + t.shift;
          requests.push({ circuit, params, inputs: req.inputs, batch: B });
        } else {
          const inputs = new Float64Array(B * (N + 1));
          for (let b = 0; b < B; b++) {
            for (let i = 0; i < N; i++) inputs[b * (N + 1) + i] = req.inputs[b * N + i];
            inputs[b * (N + 1) + N] = angleValue(a, req.params, req.inputs, N, b) + t.shift;
          }
          requests.push({ circuit, params: req.params, inputs, batch: B });
        }
      }
    });
  });
  return {
    requests,
    combine(expvals, dExpvals) {
      if (dExpvals.length !== B * nObs)
        throw new Error(`dExpvals: need batch × numObservables = ${B * nObs} values, got ${dExpvals.length}`);
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

/**
 * Parameter-shift vector-Jacobian product: the two- or four-term shift rule of every trainable or input-fed gate
 * angle, contracted with dExpvals (parameterShiftTransform's requests, evaluated in order, then its combine).
 */
export async function parameterShiftVjp(
  evaluate: Evaluate,
  req: BatchRequest,
  dExpvals: ArrayLike<number>,
): Promise<ShiftGrad> {
  const t = parameterShiftTransform(req);
  return t.combine(await evaluateAll(evaluate, t), dExpvals);
}

/** The expectation values of every request of a transform, in order (one at a time: each may be large). */
async function evaluateAll(evaluate: Evaluate, t: GradientTransform): Promise<Float64Array[]> {
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
