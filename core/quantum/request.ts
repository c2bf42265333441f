// Validation of a BatchRequest shared by the simulators: one clear message naming the field at fault.
import type { BatchRequest, ExpvalResult, ResultBuffers, ShiftedRequest, VjpResult } from './backend';
import { observablesOf, type Circuit } from './circuit';

/** Checks circuit, batch, params and inputs lengths; returns the circuit. */
export function checkBatchRequest(req: BatchRequest): Circuit {
  const c = req.circuit;
  if (!c || !Array.isArray(c.ops)) throw new Error('circuit: expected a parsed circuit record');
  if (!Number.isInteger(req.batch) || req.batch < 0)
    throw new Error(`batch: must be a non-negative integer, got ${req.batch}`);
  if (!req.params || req.params.length < c.numParams)
    throw new Error(`params: need ${c.numParams} values, got ${req.params ? req.params.length : 'none'}`);
  if (!req.inputs || req.inputs.length < req.batch * c.numInputs)
    throw new Error(
      `inputs: need batch × numInputs = ${req.batch * c.numInputs} values, got ${req.inputs ? req.inputs.length : 'none'}`,
    );
  if (req.out !== undefined) checkResultBuffers(req.out, c, req.batch);
  return c;
}

/** Checks BatchRequest.out: each given array a Float64Array of exactly its result's length. */
function checkResultBuffers(out: ResultBuffers, c: Circuit, batch: number): void {
  if (out === null || typeof out !== 'object') throw new Error('out: expected an object of Float64Arrays');
  const nAmp = c.ops.filter((o) => o.type === 'amplitude').length;
  const sizes: [keyof ResultBuffers, string, number][] = [
    ['expvals', 'batch × numObservables', batch * observablesOf(c).length],
    ['norms', 'batch × numAmplitudeOps', batch * nAmp],
    ['dParams', 'numParams', c.numParams],
    ['dInputs', 'batch × numInputs', batch * c.numInputs],
  ];
  for (const k of Object.keys(out))
    if (!sizes.some(([f]) => f === k))
      throw new Error(`out.${k}: not a result field (expvals, norms, dParams, dInputs)`);
  for (const [f, what, n] of sizes) {
    const a = out[f];
    if (a === undefined) continue;
    if (!(a instanceof Float64Array))
      throw new Error(`out.${f}: must be a Float64Array of ${what} = ${n} values, got ${describe(a)}`);
    if (a.length !== n) throw new Error(`out.${f}: must hold ${what} = ${n} values, got ${a.length}`);
  }
}

function describe(a: unknown): string {
  return a === null ? 'null' : ArrayBuffer.isView(a) ? a.constructor.name : typeof a;
}

/**
 * Result arrays for `batch` rows of `c` (BatchRequest.out): expvals and norms, with ∂L/∂θ and ∂L/∂x for a vjp; in
 * shared memory where there is one, so the cpu backend's worker threads write into them directly. A caller that
 * evaluates the same shapes again and again (a training loop, the benchmark) keeps one set per pass and shape.
 */
export function resultBuffers(c: Circuit, batch: number, vjp: boolean): ResultBuffers {
  const make = (n: number): Float64Array =>
    typeof SharedArrayBuffer === 'function'
      ? new Float64Array(new SharedArrayBuffer(8 * n))
      : new Float64Array(n);
  const nAmp = c.ops.filter((o) => o.type === 'amplitude').length;
  const b: ResultBuffers = { expvals: make(batch * observablesOf(c).length), norms: make(batch * nAmp) };
  if (vjp) {
    b.dParams = make(c.numParams);
    b.dInputs = make(batch * c.numInputs);
  }
  return b;
}

/** The request without its result arrays (for the requests a gradient transform derives from it). */
export function withoutOut(req: BatchRequest): BatchRequest {
  if (req.out === undefined) return req;
  const { out: _out, ...rest } = req;
  return rest;
}

/** `src` written into `dst` (when given and not already it); returns the array the result carries. */
function into(dst: Float64Array | undefined, src: Float64Array): Float64Array {
  if (!dst || dst === src) return src;
  dst.set(src);
  return dst;
}

/** An expval result with its arrays moved into the request's `out` arrays (copied once where not written there). */
export function deliverExpval<R extends ExpvalResult>(req: BatchRequest, r: R): R {
  const o = req.out;
  if (!o) return r;
  return { ...r, expvals: into(o.expvals, r.expvals), norms: into(o.norms, r.norms) };
}

/** A vjp result with its arrays moved into the request's `out` arrays (copied once where not written there). */
export function deliverVjp(req: BatchRequest, r: VjpResult): VjpResult {
  const o = req.out;
  if (!o) return r;
  return {
    ...deliverExpval(req, r),
    dParams: into(o.dParams, r.dParams),
    dInputs: into(o.dInputs, r.dInputs),
  };
}

/** Checks a shifted batch (backend.ts AngleShifts): every row's op, angle, input row and shift; returns the circuit. */
export function checkShiftedRequest(req: ShiftedRequest): Circuit {
  const c = checkBatchRequest({
    circuit: req.circuit,
    params: req.params,
    inputs: req.inputs,
    batch: req.inputRows,
  });
  const sh = req.shifts;
  if (!sh || !sh.op || !sh.arg || !sh.delta || !sh.inputRow)
    throw new Error('shifts: expected { op, arg, delta, inputRow } arrays');
  const rows = sh.op.length;
  for (const k of ['arg', 'delta', 'inputRow'] as const)
    if (sh[k].length !== rows)
      throw new Error(`shifts.${k}: need ${rows} values (one per row), got ${sh[k].length}`);
  for (let r = 0; r < rows; r++) {
    const oi = sh.op[r];
    if (oi !== -1) {
      const op = c.ops[oi];
      if (!op || op.type !== 'gate')
        throw new Error(`shifts.op[${r}]: ${oi} is not a gate op of the circuit`);
      if (!(sh.arg[r] >= 0 && sh.arg[r] < op.angles.length))
        throw new Error(`shifts.arg[${r}]: ops[${oi}] (${op.gate}) has no angle ${sh.arg[r]}`);
    }
    if (!Number.isFinite(sh.delta[r]))
      throw new Error(`shifts.delta[${r}]: must be finite, got ${sh.delta[r]}`);
    if (!(sh.inputRow[r] >= 0 && sh.inputRow[r] < req.inputRows))
      throw new Error(`shifts.inputRow[${r}]: must be in [0, ${req.inputRows - 1}], got ${sh.inputRow[r]}`);
  }
  return c;
}
