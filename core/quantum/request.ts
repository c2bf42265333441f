// Validation of a BatchRequest shared by the simulators: one clear message naming the field at fault.
import type { BatchRequest, ShiftedRequest } from './backend';
import type { Circuit } from './circuit';

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
  return c;
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
