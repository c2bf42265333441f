// Circuit files as the CLI and scripts read them: a JSON circuit record with "params" and "inputs" rows, or an
// OpenQASM 2 program, turned into what a simulator runs (circuit, θ, batch of inputs). No I/O here: callers read
// the file and parse JSON text (with positions) themselves. Errors name the field (CircuitError) or line (QasmError).
import { CircuitError, parseCircuit, type Circuit } from './circuit';
import { parseQasm } from './qasm';

/** A circuit file, ready to run: the circuit, θ and the (batch, numInputs) inputs. */
export interface LoadedCircuit {
  format: 'qasm' | 'json';
  circuit: Circuit;
  params: Float64Array;
  inputs: Float64Array;
  batch: number;
}

const FILE_FIELDS = new Set([
  'qubits',
  'numParams',
  'numInputs',
  'ops',
  'observables',
  'params',
  'inputs',
  'name',
  'description',
]);

/** Rows of `inputs` in a circuit file, and amplitudes (rows × 2^qubits) one run may hold. */
export const MAX_INPUT_ROWS = 100_000;
export const MAX_BATCH_AMPLITUDES = 2 ** 26;

/** Validates a parsed JSON circuit file (record + "params" + "inputs"); errors name the field. */
export function loadJsonCircuit(value: unknown): LoadedCircuit {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CircuitError('the file must hold one JSON object', 'circuit');
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v))
    if (!FILE_FIELDS.has(key))
      throw new CircuitError(`unknown field (known: ${[...FILE_FIELDS].join(', ')})`, key);
  const circuit = parseCircuit(v);
  const params = new Float64Array(circuit.numParams);
  if (v.params !== undefined) {
    if (!Array.isArray(v.params)) throw new CircuitError('must be an array of numbers', 'params');
    if (v.params.length !== circuit.numParams)
      throw new CircuitError(
        `needs numParams = ${circuit.numParams} values, got ${v.params.length}`,
        'params',
      );
    v.params.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw new CircuitError(`must be a finite number, got ${JSON.stringify(x)}`, `params[${i}]`);
      params[i] = x;
    });
  }
  const N = circuit.numInputs;
  let rows: unknown[] = [[]];
  if (v.inputs !== undefined) {
    if (!Array.isArray(v.inputs) || v.inputs.length === 0)
      throw new CircuitError('must be a non-empty array of rows (arrays of numInputs numbers)', 'inputs');
    rows = v.inputs;
  } else if (N > 0)
    throw new CircuitError(`the circuit has numInputs = ${N}: give at least one row`, 'inputs');
  // Every row is simulated as its own state: bound rows × 2^qubits before anything is allocated.
  if (rows.length > MAX_INPUT_ROWS)
    throw new CircuitError(`${rows.length} rows; at most ${MAX_INPUT_ROWS}`, 'inputs');
  if (rows.length * 2 ** circuit.qubits > MAX_BATCH_AMPLITUDES)
    throw new CircuitError(
      `${rows.length} rows of a ${circuit.qubits}-qubit circuit need ${rows.length * 2 ** circuit.qubits} amplitudes; at most ${MAX_BATCH_AMPLITUDES} (2^26) at once`,
      'inputs',
    );
  const inputs = new Float64Array(rows.length * N);
  rows.forEach((row, b) => {
    if (!Array.isArray(row) || row.length !== N)
      throw new CircuitError(`must be an array of numInputs = ${N} numbers`, `inputs[${b}]`);
    row.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw new CircuitError(`must be a finite number, got ${JSON.stringify(x)}`, `inputs[${b}][${i}]`);
      inputs[b * N + i] = x;
    });
  });
  return { format: 'json', circuit, params, inputs, batch: rows.length };
}

/**
 * An OpenQASM 2 program as a loaded circuit (one row, no inputs); with `trainable`, every angle argument becomes a
 * trainable parameter in order of appearance, so gradients can be taken with respect to them.
 */
export function loadQasmCircuit(text: string, trainable: boolean): LoadedCircuit {
  const q = parseQasm(text, { trainable });
  return {
    format: 'qasm',
    circuit: q.circuit,
    params: Float64Array.from(q.params),
    inputs: new Float64Array(0),
    batch: 1,
  };
}
