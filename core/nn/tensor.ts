// Tensors are plain typed arrays with shapes in comments (llm.c style); this file holds the few shared pieces:
// the array type, the allocator, named parameters and the module contract that optimizers, LoRA, freezing and
// checkpoints walk over.

/** Float32 for training, Float64 for gradient checks; kernels are written over both. */
export type Arr = Float32Array | Float64Array;
export type Dtype = 'f32' | 'f64';

export class NnError extends Error {
  constructor(
    message: string,
    /** The offending field, e.g. "config.numHeads". */
    readonly field: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'NnError';
  }
}

// SharedArrayBuffer-backed storage lets matmul worker threads read and write activations without copies.
const canShare = typeof SharedArrayBuffer !== 'undefined';

/** A zeroed array of n elements of the given dtype, on shared memory where the platform allows it. */
export function alloc(dtype: Dtype, n: number): Arr {
  const bytes = dtype === 'f32' ? 4 : 8;
  const buf = canShare ? new SharedArrayBuffer(n * bytes) : new ArrayBuffer(n * bytes);
  return dtype === 'f32' ? new Float32Array(buf) : new Float64Array(buf);
}

export function dtypeOf(a: Arr): Dtype {
  return a instanceof Float64Array ? 'f64' : 'f32';
}

/** A named trainable tensor with its gradient buffer (same length, added into by backward passes). */
export class Parameter {
  readonly data: Arr;
  readonly grad: Arr;
  readonly size: number;
  /** Frozen parameters keep their gradient buffers but optimizers skip them. */
  frozen = false;
  /**
   * Updated by the matmul engine's Adam kernel (f32x4), whether or not it was moved into the engine's memory: set
   * for a training f32 transformer's own parameters, so their updates do not depend on the engine's budget.
   */
  onEngine = false;

  constructor(
    /** Hugging Face style name, e.g. "model.layers.0.self_attn.q_proj.weight". */
    public name: string,
    readonly shape: readonly number[],
    dtype: Dtype,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    this.data = alloc(dtype, this.size);
    this.grad = alloc(dtype, this.size);
  }

  /**
   * Copies the values and the gradient into `data` and `grad` (same dtype, length size) and uses those arrays from
   * now on (the transformer moves its weights into the matmul engine's memory this way while training). Whoever
   * kept the old arrays keeps a stale copy, so only an owner that reads p.data at each use may call this.
   */
  relocate(data: Arr, grad: Arr): void {
    if (data.length !== this.size || grad.length !== this.size || dtypeOf(data) !== dtypeOf(this.data))
      throw new NnError(`needs two ${dtypeOf(this.data)} arrays of ${this.size}`, this.name);
    data.set(this.data);
    grad.set(this.grad);
    (this as { data: Arr }).data = data;
    (this as { grad: Arr }).grad = grad;
  }
}

/** Anything that owns parameters. */
export interface Module {
  parameters(): Parameter[];
}

export function zeroGrad(params: Iterable<Parameter>): void {
  for (const p of params) p.grad.fill(0);
}

export function countParameters(params: Iterable<Parameter>, trainableOnly = false): number {
  let n = 0;
  for (const p of params) if (!trainableOnly || !p.frozen) n += p.size;
  return n;
}

/** Sets `frozen` on every parameter whose name matches (a RegExp or a substring); returns how many matched. */
export function setFrozen(params: Iterable<Parameter>, pattern: RegExp | string, frozen: boolean): number {
  let n = 0;
  for (const p of params) {
    const hit = typeof pattern === 'string' ? p.name.includes(pattern) : pattern.test(p.name);
    if (hit) {
      p.frozen = frozen;
      n++;
    }
  }
  return n;
}

export function checkPositiveInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new NnError(`must be a positive integer, got ${JSON.stringify(v)}`, field);
  }
  return v;
}
