// Validation of a BatchRequest shared by the simulators: one clear message naming the field at fault.
import type { BatchRequest } from './backend';
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
