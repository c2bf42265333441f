// A tiny WebAssembly assembler: just the instructions the matmul (core/nn/wasm/gemm-module.ts) and state-vector
// (core/quantum/cpu/wasm-module.ts) kernels use, emitted straight to bytes, so the runtime needs no wat2wasm and
// kernels can be unrolled by a loop.
// Encoding follows the WebAssembly core spec 2.0 binary format (LEB128 immediates, 0xfd-prefixed SIMD).
// Every module carries a name section (function names, and the parameter and local names a kernel gives), so a
// disassembler shows $kl and $acc_0_0 instead of $p4 and $l9: `npm run wasm:dump` prints each module's WAT.

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

export function uleb(out: number[], v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`uleb: bad value ${v}`);
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

export function sleb(out: number[], v: number): void {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`sleb: bad value ${v}`);
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return;
  }
}

function str(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  uleb(out, b.length);
  out.push(...b);
}

/** One function body under construction. Locals are numbered after the parameters, as in the binary format. */
export class Fn {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];
  /** Names of parameters and locals by index, for the name section (debug only: the code never reads them). */
  readonly localNames = new Map<number, string>();

  constructor(
    readonly name: string,
    readonly params: readonly ValType[],
  ) {}

  /** A new local of the given type (named `name` in the name section, when given); returns its index. */
  local(t: ValType, name?: string): number {
    this.extra.push(t);
    const i = this.params.length + this.extra.length - 1;
    if (name !== undefined) this.localNames.set(i, name);
    return i;
  }

  /** Names the parameters in order, for the name section; returns this. */
  named(...params: string[]): this {
    if (params.length > this.params.length)
      throw new Error(`${this.name}: ${params.length} parameter names for ${this.params.length} parameters`);
    params.forEach((n, i) => this.localNames.set(i, n));
    return this;
  }

  private op(...b: number[]): this {
    this.code.push(...b);
    return this;
  }

  private simd(op: number): this {
    this.code.push(0xfd);
    uleb(this.code, op);
    return this;
  }

  private mem(align: number, offset: number): this {
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  get(i: number): this {
    this.code.push(0x20);
    uleb(this.code, i);
    return this;
  }
  set(i: number): this {
    this.code.push(0x21);
    uleb(this.code, i);
    return this;
  }
  tee(i: number): this {
    this.code.push(0x22);
    uleb(this.code, i);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v);
    return this;
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  divU(): this {
    return this.op(0x6e);
  }
  shl(): this {
    return this.op(0x74);
  }
  and(): this {
    return this.op(0x71);
  }
  ltS(): this {
    return this.op(0x48);
  }
  geS(): this {
    return this.op(0x4e);
  }
  eq(): this {
    return this.op(0x46);
  }
  eqz(): this {
    return this.op(0x45);
  }
  /** (a, b, cond) → cond ? a : b */
  select(): this {
    return this.op(0x1b);
  }
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if(): this {
    return this.op(0x04, 0x40);
  }
  else(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    this.code.push(0x0c);
    uleb(this.code, depth);
    return this;
  }
  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(this.code, depth);
    return this;
  }
  call(index: number): this {
    this.code.push(0x10);
    uleb(this.code, index);
    return this;
  }
  f32Load(offset = 0): this {
    return this.op(0x2a).mem(2, offset);
  }
  f32Store(offset = 0): this {
    return this.op(0x38).mem(2, offset);
  }
  f32Add(): this {
    return this.op(0x92);
  }
  f32Const0(): this {
    return this.op(0x43, 0, 0, 0, 0);
  }
  i32Load(offset = 0): this {
    return this.op(0x28).mem(2, offset);
  }
  /** Moves 8 bytes (one complex64) through the stack as an i64. */
  i64Load(offset = 0): this {
    return this.op(0x29).mem(3, offset);
  }
  i64Store(offset = 0): this {
    return this.op(0x37).mem(3, offset);
  }
  v128Load(offset = 0): this {
    return this.simd(0x00).mem(4, offset);
  }
  v128Store(offset = 0): this {
    return this.simd(0x0b).mem(4, offset);
  }
  /** Loads one f32 and broadcasts it to the four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd(0x09).mem(2, offset);
  }
  v128Zero(): this {
    this.simd(0x0c);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** Relaxed SIMD: a·b + c, fused where the CPU has FMA (may round once or twice); stack a, b, c. */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  f32x4Sub(): this {
    return this.simd(0xe5);
  }
  /** Relaxed SIMD: a·b + c (f64x2), fused where the CPU has FMA; stack a, b, c. */
  f64x2RelaxedMadd(): this {
    return this.simd(0x107);
  }
  /** f32 → f32x4 with the value in every lane. */
  f32x4Splat(): this {
    return this.simd(0x13);
  }
  /** A v128 constant from four f32 lanes. */
  v128ConstF32(lanes: readonly [number, number, number, number]): this {
    this.simd(0x0c);
    const b = new Uint8Array(new Float32Array(lanes).buffer);
    for (let i = 0; i < 16; i++) this.code.push(b[i]);
    return this;
  }
  /** i8x16.shuffle of the two v128 operands; `bytes` picks 16 of their 32 bytes (0–15 first, 16–31 second). */
  shuffle(bytes: readonly number[]): this {
    if (bytes.length !== 16 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 31))
      throw new Error(`shuffle: need 16 lane indices in [0, 32), got [${bytes.join(', ')}]`);
    this.simd(0x0d);
    this.code.push(...bytes);
    return this;
  }
  /** Shuffle of f32 lanes (0–3 first operand, 4–7 second), expanded to byte indices. */
  shuffleF32(lanes: readonly [number, number, number, number]): this {
    const bytes: number[] = [];
    for (const l of lanes) for (let k = 0; k < 4; k++) bytes.push(4 * l + k);
    return this.shuffle(bytes);
  }
  shrU(): this {
    return this.op(0x76);
  }
  f64x2Add(): this {
    return this.simd(0xf0);
  }
  f64x2Sub(): this {
    return this.simd(0xf1);
  }
  f64x2Mul(): this {
    return this.simd(0xf2);
  }
  /** f64 → f64x2 with the value in both lanes. */
  f64x2Splat(): this {
    return this.simd(0x14);
  }
  /** A v128 constant from two f64 lanes. */
  v128ConstF64(lanes: readonly [number, number]): this {
    this.simd(0x0c);
    const b = new Uint8Array(new Float64Array(lanes).buffer);
    for (let i = 0; i < 16; i++) this.code.push(b[i]);
    return this;
  }
  /** A v128 constant from four i32 lanes (masks). */
  v128ConstI32(lanes: readonly [number, number, number, number]): this {
    this.simd(0x0c);
    const b = new Uint8Array(new Int32Array(lanes).buffer);
    for (let i = 0; i < 16; i++) this.code.push(b[i]);
    return this;
  }
  /** Shuffle of f64 lanes (0–1 first operand, 2–3 second), expanded to byte indices. */
  shuffleF64(lanes: readonly [number, number]): this {
    const bytes: number[] = [];
    for (const l of lanes) for (let k = 0; k < 8; k++) bytes.push(8 * l + k);
    return this.shuffle(bytes);
  }
  v128And(): this {
    return this.simd(0x4e);
  }
  /** (a, b, mask) → (a & mask) | (b & ~mask) */
  v128Bitselect(): this {
    return this.simd(0x52);
  }
  or(): this {
    return this.op(0x72);
  }
  f32x4Sqrt(): this {
    return this.simd(0xe3);
  }
  f32x4Div(): this {
    return this.simd(0xe7);
  }
  f32x4Min(): this {
    return this.simd(0xe8);
  }
  f32x4Max(): this {
    return this.simd(0xe9);
  }
  /** Round to nearest, ties to even, per lane. */
  f32x4Nearest(): this {
    return this.simd(0x6a);
  }
  /** f32 lanes → i32 lanes, truncated, saturating. */
  i32x4TruncSatF32x4S(): this {
    return this.simd(0xf8);
  }
  i32x4Add(): this {
    return this.simd(0xae);
  }
  /** i32 lanes shifted left by an i32 operand. */
  i32x4Shl(): this {
    return this.simd(0xab);
  }
  f32x4ExtractLane(lane: number): this {
    this.simd(0x1f);
    this.code.push(lane);
    return this;
  }

  /** for (v = from; v < limit; v += step) body — `from`, `limit`, `step` are emitters of one i32 each. */
  for(v: number, from: () => void, limit: () => void, step: number, body: () => void): this {
    from();
    this.set(v);
    this.block();
    this.get(v);
    limit();
    this.geS().brIf(0);
    this.loop();
    body();
    this.get(v).i32(step).add().tee(v);
    limit();
    this.ltS().brIf(0);
    this.end().end();
    return this;
  }

  body(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [n, t] of groups) {
      uleb(out, n);
      out.push(t);
    }
    out.push(...this.code, 0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }
}

/** A name as the text format's $identifier allows it (wabt prints names verbatim after the $). */
function idChars(s: string): string {
  return s.replace(/[^A-Za-z0-9_.]/g, '_');
}

/**
 * The custom "name" section (WebAssembly core spec, appendix 7.4.1): the module name (subsection 0), every
 * function's name (1) and the named parameters and locals (2), indices ascending, names unique per function.
 */
function nameSection(fns: Fn[], moduleName: string | undefined): number[] {
  const content: number[] = [];
  str(content, 'name');
  const sub = (id: number, body: number[]): void => {
    content.push(id);
    uleb(content, body.length);
    content.push(...body);
  };
  if (moduleName !== undefined) {
    const m: number[] = [];
    str(m, idChars(moduleName));
    sub(0, m);
  }
  const fnames: number[] = [];
  uleb(fnames, fns.length);
  fns.forEach((f, i) => {
    uleb(fnames, i);
    str(fnames, idChars(f.name));
  });
  sub(1, fnames);
  const named = fns.map((f, i) => [i, f] as const).filter(([, f]) => f.localNames.size > 0);
  if (named.length > 0) {
    const locals: number[] = [];
    uleb(locals, named.length);
    for (const [i, f] of named) {
      uleb(locals, i);
      const entries = [...f.localNames].sort((a, b) => a[0] - b[0]);
      uleb(locals, entries.length);
      const seen = new Set<string>();
      for (const [li, n] of entries) {
        let name = idChars(n);
        if (seen.has(name)) name = `${name}_${li}`;
        seen.add(name);
        uleb(locals, li);
        str(locals, name);
      }
    }
    sub(2, locals);
  }
  return content;
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  out.push(...content);
}

/**
 * A module importing one memory as env.mem (shared when `shared`, limits in 64 KiB pages) and exporting
 * every function by name. Functions return nothing; they may call one another by their index in `fns`.
 * A name section (`name` the module's, when given) follows the code section.
 */
export function assemble(
  fns: Fn[],
  mem: { min: number; max: number; shared: boolean },
  name?: string,
): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: string[] = [];
  const typeIdx = fns.map((f) => {
    const key = f.params.join(',');
    let i = types.indexOf(key);
    if (i < 0) i = types.push(key) - 1;
    return i;
  });
  const typeSec: number[] = [];
  uleb(typeSec, types.length);
  for (const key of types) {
    const ps = key === '' ? [] : key.split(',').map(Number);
    typeSec.push(0x60);
    uleb(typeSec, ps.length);
    typeSec.push(...ps, 0x00);
  }
  section(out, 1, typeSec);
  const imp: number[] = [1];
  str(imp, 'env');
  str(imp, 'mem');
  imp.push(0x02, mem.shared ? 0x03 : 0x01);
  uleb(imp, mem.min);
  uleb(imp, mem.max);
  section(out, 2, imp);
  const funcSec: number[] = [];
  uleb(funcSec, fns.length);
  for (const t of typeIdx) uleb(funcSec, t);
  section(out, 3, funcSec);
  const exp: number[] = [];
  uleb(exp, fns.length);
  fns.forEach((f, i) => {
    str(exp, f.name);
    exp.push(0x00);
    uleb(exp, i);
  });
  section(out, 7, exp);
  const codeSec: number[] = [];
  uleb(codeSec, fns.length);
  for (const f of fns) codeSec.push(...f.body());
  section(out, 10, codeSec);
  section(out, 0, nameSection(fns, name));
  return new Uint8Array(out);
}
