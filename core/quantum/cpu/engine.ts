// Row-by-row execution of a compiled program: one 2^n state (and, for gradients, one adjoint vector)
// lives in scratch that stays in cache while the whole circuit runs over it. The backward pass is the
// adjoint method (Jones & Gacon 2020): walk the schedule in reverse, un-apply each step to ψ and λ,
// and read each angle's derivative as 2·Im⟨λ|G|ψ⟩ from its generator G.
import type { Precision } from '../backend';
import {
  adjointDiagTape,
  adjointStep1Tape,
  addPauliApplied,
  kernelFor,
  apply1X,
  applyDiagTable,
  isDiag2,
  isReal2,
  applyGather,
  gatherTo,
  signedSum,
  apply2,
  applyParityDiag,
  applySwap,
  pauliInner,
  type Amps,
} from './kernels';
import {
  K_FIXED1,
  K_PHASE,
  K_ROT,
  K_ROT2,
  K_SWAP,
  K_X,
  SRC_CONST,
  SRC_INPUT,
  SRC_PARAM,
  type AmpStep,
  type BlockStep,
  type DiagStep,
  type Prim,
  type Program,
} from './program';
import { adjointStep1Wasm, wasmState, type WasmState } from './wasm';

/** Rows per gradient chunk: ∂L/∂θ is summed per chunk, then chunks in order, so any thread split gives identical sums. */
export const GRAD_CHUNK = 32;

/**
 * Smallest state (amplitudes) whose f32 rows live in WebAssembly memory and take the SIMD one-qubit kernels;
 * below it the JS kernels' lower call cost wins (measured in docs/simulator-performance.md).
 */
export const WASM_MIN_DIM = 1 << 5;

/** Largest forward tape in floats (32 MiB at f32): beyond it the backward pass un-applies steps to ψ. */
export const TAPE_FLOATS = 1 << 23;

/** Writes the 2×2 target block of a one-qubit primitive at angle a into out[o..o+8). */
function primMatrix(pr: Prim, a: number, out: Float64Array, o: number): void {
  switch (pr.kind) {
    case K_X:
      out.fill(0, o, o + 8);
      out[o + 2] = 1;
      out[o + 4] = 1;
      return;
    case K_PHASE:
      out.fill(0, o, o + 8);
      out[o] = 1;
      out[o + 6] = Math.cos(a);
      out[o + 7] = Math.sin(a);
      return;
    case K_ROT: {
      const c = Math.cos(a / 2);
      const s = Math.sin(a / 2);
      out.fill(0, o, o + 8);
      if (pr.pauli === 0) {
        out[o] = c;
        out[o + 3] = -s;
        out[o + 5] = -s;
        out[o + 6] = c;
      } else if (pr.pauli === 1) {
        out[o] = c;
        out[o + 2] = -s;
        out[o + 4] = s;
        out[o + 6] = c;
      } else {
        out[o] = c;
        out[o + 1] = -s;
        out[o + 6] = c;
        out[o + 7] = s;
      }
      return;
    }
    default:
      out.set(pr.fixed!, o);
  }
}

/** out = a · b for 2×2 interleaved matrices (out may alias neither). */
function mul2(a: Float64Array, ao: number, b: Float64Array, bo: number, out: Float64Array, oo: number): void {
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      const x0r = a[ao + 4 * r];
      const x0i = a[ao + 4 * r + 1];
      const x1r = a[ao + 4 * r + 2];
      const x1i = a[ao + 4 * r + 3];
      const y0r = b[bo + 2 * c];
      const y0i = b[bo + 2 * c + 1];
      const y1r = b[bo + 4 + 2 * c];
      const y1i = b[bo + 4 + 2 * c + 1];
      out[oo + 4 * r + 2 * c] = x0r * y0r - x0i * y0i + x1r * y1r - x1i * y1i;
      out[oo + 4 * r + 2 * c + 1] = x0r * y0i + x0i * y0r + x1r * y1i + x1i * y1r;
    }
}

/** Conjugate transpose of a 2×2 into out. */
function dag2(m: Float64Array, mo: number, out: Float64Array, oo: number): void {
  out[oo] = m[mo];
  out[oo + 1] = -m[mo + 1];
  out[oo + 2] = m[mo + 4];
  out[oo + 3] = -m[mo + 5];
  out[oo + 4] = m[mo + 2];
  out[oo + 5] = -m[mo + 3];
  out[oo + 6] = m[mo + 6];
  out[oo + 7] = -m[mo + 7];
}

export function newAmps(precision: Precision, length: number): Amps {
  return precision === 'f64' ? new Float64Array(length) : new Float32Array(length);
}

export class Runner {
  readonly dim: number;
  /** ψ for the current row, (2^n, 2); moves (once) into the tape's memory when a wasm tape is enabled. */
  psi: Amps;
  /** λ for the current row, (2^n, 2). */
  private lam: Amps;
  /** Per-primitive 2×2 at the current angles, (numPrims, 8). */
  private readonly pm: Float64Array;
  /** Per-step fused block matrix, (numSteps, 8). */
  private readonly bm: Float64Array;
  private readonly t8 = new Float64Array(8);
  private readonly u8 = new Float64Array(8);
  private readonly rho = new Float64Array(16);
  private readonly m4 = new Float64Array(32);
  /** Per amplitude step: normalised features a_j and ∂L/∂a_j. */
  private readonly ampA: Float64Array[];
  private readonly ampG: Float64Array[];
  /** Per diagonal-run step: its diagonal (2^n, 2), in f64. */
  private readonly dt: Float64Array[];
  /** Scratch row for permutation gathers. */
  private tmp: Amps;
  /** Scratch real vector (2^n): |ψ_i|², Im(conj(λ_i)ψ_i) or observable weights. */
  private readonly w: Float64Array;
  /** Per-bit weights of single-wire Z observables (adjoint seed). */
  private readonly bitW = new Float64Array(32);
  /** ψ after every step of the last taped forward row, (numSteps, 2^n, 2); null when off. */
  private tape: Amps | null = null;
  /** Whether forwardRow records into the tape (on from enableTape until pauseTape). */
  private recording = false;
  private taped = -1;
  private params: ArrayLike<number> = [];
  private inputs: ArrayLike<number> = [];
  /**
   * f32 rows ψ, λ, tmp (and the tape, once enabled) in one WebAssembly memory with the SIMD kernels, so the
   * taped backward step reads ψ from the tape and updates λ in one call; null on the JS path.
   */
  private wasm: WasmState | null;
  /** Byte addresses in wasm memory, per step: a perm's gather tables (i32 byte offsets) and a diag's f32 table. */
  private readonly permSrcAt: Int32Array;
  private readonly permInvAt: Int32Array;
  private readonly diagAt: Int32Array;
  /** f32 views of the diag tables in wasm memory (null per non-diag step, or off wasm). */
  private readonly diagF32: (Float32Array | null)[];
  /** Per diag step: how many of its primitives have a gradient. */
  private readonly diffCount: Int32Array;
  /** Im(conj(λ_i) ψ_i) written by the wasm diag backward step, at byte address wAt. */
  private wF32: Float32Array | null = null;
  private wAt = 0;

  constructor(
    readonly prog: Program,
    precision: Precision,
    useWasm = true,
  ) {
    this.dim = prog.dim;
    this.pm = new Float64Array(8 * prog.prims.length);
    this.bm = new Float64Array(8 * prog.steps.length);
    this.dt = prog.steps.map((s) => new Float64Array(s.type === 'diag' ? 2 * prog.dim : 0));
    this.permSrcAt = new Int32Array(prog.steps.length);
    this.permInvAt = new Int32Array(prog.steps.length);
    this.diagAt = new Int32Array(prog.steps.length);
    this.diagF32 = prog.steps.map(() => null);
    this.diffCount = Int32Array.from(prog.steps, (st) =>
      st.type === 'diag' ? st.prims.filter((i) => prog.prims[i].src !== SRC_CONST).length : 0,
    );
    this.wasm =
      useWasm && precision === 'f32' && prog.dim >= WASM_MIN_DIM
        ? wasmState(prog.dim, 3, this.auxBytes())
        : null;
    this.psi = this.wasm ? this.wasm.rows[0] : newAmps(precision, 2 * prog.dim);
    this.lam = this.wasm ? this.wasm.rows[1] : newAmps(precision, 2 * prog.dim);
    this.tmp = this.wasm ? this.wasm.rows[2] : newAmps(precision, 2 * prog.dim);
    if (this.wasm) this.placeTables(this.wasm);
    this.w = new Float64Array(prog.dim);
    this.ampA = prog.steps.map((s) => new Float64Array(s.type === 'amp' ? s.offsets.length : 0));
    this.ampG = prog.steps.map((s) => new Float64Array(s.type === 'amp' ? s.offsets.length : 0));
  }

  private angle(pr: Prim, row: number): number {
    if (pr.src === SRC_CONST) return pr.value;
    if (pr.src === SRC_PARAM) return pr.scale * this.params[pr.index];
    return pr.scale * this.inputs[row * this.prog.numInputs + pr.index];
  }

  /** Bytes after the rows for w and the perm and diag tables. */
  private auxBytes(): number {
    let bytes = 4 * this.dim;
    for (const st of this.prog.steps)
      if (st.type === 'perm') bytes += 8 * this.dim;
      else if (st.type === 'diag') bytes += 8 * this.dim;
    return bytes;
  }

  /** Lays out w, the gather tables and the diag tables in w's extra bytes (16-byte aligned, as dim ≥ 32). */
  private placeTables(w: WasmState): void {
    const dim = this.dim;
    const buf = w.memory.buffer;
    let at = w.extraAt;
    this.wAt = at;
    this.wF32 = new Float32Array(buf, at, dim);
    at += 4 * dim;
    const { steps } = this.prog;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type === 'perm') {
        for (const [tab, into] of [
          [st.src, this.permSrcAt],
          [st.inv, this.permInvAt],
        ] as const) {
          into[k] = at;
          const v = new Int32Array(buf, at, dim);
          for (let j = 0; j < dim; j++) v[j] = 8 * tab[j];
          at += 4 * dim;
        }
      } else if (st.type === 'diag') {
        this.diagAt[k] = at;
        const f = new Float32Array(buf, at, 2 * dim);
        f.set(this.dt[k]);
        this.diagF32[k] = f;
        at += 8 * dim;
      }
    }
  }

  /** Whether one-qubit blocks run in the WebAssembly SIMD kernels. */
  get usesWasm(): boolean {
    return this.wasm !== null;
  }

  /** Uncontrolled 2×2 in place on the row at s[off..]: the SIMD kernel when s lives in wasm memory. */
  private mat1U(s: Amps, off: number, p: number, m: Float64Array, o: number): void {
    const w = this.wasm;
    if (w === null || s.buffer !== w.memory.buffer) {
      kernelFor(m, o)(s, off, this.dim, p, 0, m, o);
      return;
    }
    const at = s.byteOffset + 4 * off;
    if (isDiag2(m, o))
      w.diag(at, this.dim, p, m[o] === 1 && m[o + 1] === 0 ? 1 : 0, m[o], m[o + 1], m[o + 6], m[o + 7]);
    else if (isReal2(m, o)) w.real(at, this.dim, p, m[o], m[o + 2], m[o + 4], m[o + 6]);
    else w.gen(at, this.dim, p, m[o], m[o + 1], m[o + 2], m[o + 3], m[o + 4], m[o + 5], m[o + 6], m[o + 7]);
  }

  /**
   * d[doff..] ← M · s[so..] out of place in one SIMD pass, when both rows live in wasm memory and M is not
   * diagonal (the diagonal kernel works in place); false when it did nothing and the caller must copy and apply.
   */
  private mat1UTo(
    s: Amps,
    so: number,
    d: Amps,
    doff: number,
    p: number,
    m: Float64Array,
    o: number,
  ): boolean {
    const w = this.wasm;
    if (w === null || s.buffer !== w.memory.buffer || d.buffer !== w.memory.buffer) return false;
    if (isDiag2(m, o)) return false;
    const from = s.byteOffset + 4 * so;
    const delta = d.byteOffset + 4 * doff - from;
    if (isReal2(m, o)) w.real(from, this.dim, p, m[o], m[o + 2], m[o + 4], m[o + 6], delta);
    else
      w.gen(
        from,
        this.dim,
        p,
        m[o],
        m[o + 1],
        m[o + 2],
        m[o + 3],
        m[o + 4],
        m[o + 5],
        m[o + 6],
        m[o + 7],
        delta,
      );
    return true;
  }

  /** Binds θ and x and builds every matrix that does not depend on the row. */
  bind(params: ArrayLike<number>, inputs: ArrayLike<number>): void {
    this.params = params;
    this.inputs = inputs;
    const { prims, steps } = this.prog;
    for (let i = 0; i < prims.length; i++) {
      const pr = prims[i];
      // two-wire primitives build their matrices when applied
      if (pr.src !== SRC_INPUT && pr.kind !== K_SWAP && pr.kind !== K_ROT2)
        primMatrix(pr, this.angle(pr, 0), this.pm, 8 * i);
    }
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type === 'block' && !st.perRow) this.buildBlock(st, k, 0);
      else if (st.type === 'diag' && !st.perRow) this.buildDiag(st, k, 0);
    }
  }

  /** The product of a diagonal run's primitives as one table of 2^n phases. */
  private buildDiag(st: DiagStep, k: number, row: number): void {
    const t = this.dt[k];
    const dim = this.dim;
    const par = this.prog.parity;
    for (let i = 0; i < 2 * dim; i += 2) {
      t[i] = 1;
      t[i + 1] = 0;
    }
    for (const pi of st.prims) {
      const pr = this.prog.prims[pi];
      // factor e0 where the selecting bit(s) have even parity, e1 where odd, on the control subspace
      let e0r = 1;
      let e0i = 0;
      let e1r: number;
      let e1i: number;
      let sel = 1 << pr.p;
      if (pr.kind === K_FIXED1) {
        const f = pr.fixed!;
        e0r = f[0];
        e0i = f[1];
        e1r = f[6];
        e1i = f[7];
      } else if (pr.kind === K_PHASE) {
        const a = this.angle(pr, row);
        e1r = Math.cos(a);
        e1i = Math.sin(a);
      } else {
        const a = this.angle(pr, row);
        e0r = Math.cos(a / 2);
        e0i = -Math.sin(a / 2);
        e1r = e0r;
        e1i = -e0i;
        if (pr.kind === K_ROT2) sel |= 1 << pr.q;
      }
      const cm = pr.cmask;
      for (let i = 0; i < dim; i++) {
        if ((i & cm) !== cm) continue;
        const odd = par[i & sel];
        const fr = odd ? e1r : e0r;
        const fi = odd ? e1i : e0i;
        const tr = t[2 * i];
        const ti = t[2 * i + 1];
        t[2 * i] = fr * tr - fi * ti;
        t[2 * i + 1] = fr * ti + fi * tr;
      }
    }
    this.diagF32[k]?.set(t);
  }

  private buildBlock(st: BlockStep, k: number, row: number): void {
    const { prims } = this.prog;
    const o = 8 * k;
    for (let j = 0; j < st.prims.length; j++) {
      const pi = st.prims[j];
      const pr = prims[pi];
      if (pr.src === SRC_INPUT) primMatrix(pr, this.angle(pr, row), this.pm, 8 * pi);
      if (j === 0) this.bm.set(this.pm.subarray(8 * pi, 8 * pi + 8), o);
      else {
        mul2(this.pm, 8 * pi, this.bm, o, this.t8, 0);
        this.bm.set(this.t8, o);
      }
    }
  }

  /**
   * Records ψ after every step in later forward rows so the backward pass reads it instead of
   * un-applying each step to ψ (about a third of the adjoint's work). Skipped above TAPE_FLOATS.
   */
  enableTape(): boolean {
    const floats = this.prog.steps.length * 2 * this.dim;
    if (floats > TAPE_FLOATS) return false;
    if (!this.tape && this.wasm) {
      // ψ, λ, tmp and the tape in one new memory: the forward pass's blocks (applied in the tape) and the
      // backward step (ψ from the tape, λ updated) then take the SIMD kernels
      const w = wasmState(this.dim, 3 + this.prog.steps.length, this.auxBytes());
      if (w) {
        this.wasm = w;
        this.psi = w.rows[0];
        this.lam = w.rows[1];
        this.tmp = w.rows[2];
        this.tape = new Float32Array(w.memory.buffer, 3 * 8 * this.dim, floats);
        this.placeTables(w);
      }
    }
    this.tape ??= this.psi instanceof Float64Array ? new Float64Array(floats) : new Float32Array(floats);
    this.recording = true;
    return true;
  }

  /** Forward passes stop recording (a reused Runner's expval calls need no tape); enableTape resumes. */
  pauseTape(): void {
    this.recording = false;
  }

  /** Runs the circuit for batch row `row` into `psi`, writing amplitude-op norms to norms[no..]. */
  forwardRow(row: number, norms: Float64Array | null, no: number): void {
    const s = this.psi;
    const dim = this.dim;
    s.fill(0);
    s[0] = 1;
    const { steps } = this.prog;
    const tape = this.tape;
    if (tape && this.recording) {
      this.forwardTaped(row, norms, no, tape);
      return;
    }
    this.taped = -1;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        this.mat1U(s, 0, st.p, this.bm, 8 * k);
      } else if (st.type === 'prim') {
        this.applyPrim(s, this.prog.prims[st.prim], row, false);
      } else if (st.type === 'diag') {
        if (st.perRow) this.buildDiag(st, k, row);
        const w = this.wasm;
        if (w) w.dmul(s.byteOffset, s.byteOffset, this.diagAt[k], dim);
        else applyDiagTable(s, 0, s, 0, dim, this.dt[k]);
      } else if (st.type === 'perm') {
        this.gather(s, this.permSrcAt[k], st.src);
      } else {
        const norm = this.ampForward(st, k, row);
        if (norms) norms[no + st.amp] = norm;
      }
    }
  }

  /** The forward pass writing ψ after step k into tape slot k (out of place for the hot steps). */
  private forwardTaped(row: number, norms: Float64Array | null, no: number, tape: Amps): void {
    const s = this.psi;
    const dim = this.dim;
    const n2 = 2 * dim;
    const { steps } = this.prog;
    const w = this.wasm;
    // the source of step k: psi (holding |0⟩) for k = 0, else tape slot k − 1
    let src: Amps = s;
    let so = 0;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k];
      const doff = n2 * k;
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        if (!this.mat1UTo(src, so, tape, doff, st.p, this.bm, 8 * k)) {
          if (src === s) tape.set(s, doff);
          else tape.copyWithin(doff, so, so + n2);
          this.mat1U(tape, doff, st.p, this.bm, 8 * k);
        }
      } else if (st.type === 'diag') {
        if (st.perRow) this.buildDiag(st, k, row);
        if (w !== null && tape.buffer === w.memory.buffer)
          w.dmul(src.byteOffset + 4 * so, tape.byteOffset + 4 * doff, this.diagAt[k], dim);
        else applyDiagTable(src, so, tape, doff, dim, this.dt[k]);
      } else if (st.type === 'perm') {
        if (w !== null && tape.buffer === w.memory.buffer)
          w.gather(src.byteOffset + 4 * so, tape.byteOffset + 4 * doff, this.permSrcAt[k], dim);
        else gatherTo(src, so, tape, doff, dim, st.src);
      } else {
        // rare steps run in place on psi, then are recorded
        if (src !== s) for (let i = 0; i < n2; i++) s[i] = src[so + i];
        if (st.type === 'prim') this.applyPrim(s, this.prog.prims[st.prim], row, false);
        else {
          const norm = this.ampForward(st, k, row);
          if (norms) norms[no + st.amp] = norm;
        }
        tape.set(s, doff);
      }
      src = tape;
      so = doff;
    }
    if (src !== s) s.set(tape.subarray(so, so + n2));
    this.taped = row;
  }

  private applyPrim(s: Amps, pr: Prim, row: number, inverse: boolean): void {
    const dim = this.dim;
    switch (pr.kind) {
      case K_X:
        apply1X(s, 0, dim, pr.p, pr.cmask, this.t8, 0);
        return;
      case K_SWAP:
        applySwap(s, 0, dim, pr.p, pr.q);
        return;
      case K_ROT2: {
        const a = inverse ? -this.angle(pr, row) : this.angle(pr, row);
        const c = Math.cos(a / 2);
        const sn = Math.sin(a / 2);
        if (pr.pauli === 2) {
          applyParityDiag(s, 0, dim, pr.p, pr.q, c, -sn, c, sn);
          return;
        }
        // c·I − i·s·P⊗P; Y⊗Y flips the sign of the |00⟩↔|11⟩ corners
        const m = this.m4;
        m.fill(0);
        for (let r = 0; r < 4; r++) m[8 * r + 2 * r] = c;
        const corner = pr.pauli === 1 ? sn : -sn;
        m[2 * 3 + 1] = corner;
        m[8 * 3 + 1] = corner;
        m[8 * 1 + 2 * 2 + 1] = -sn;
        m[8 * 2 + 2 * 1 + 1] = -sn;
        apply2(s, 0, dim, pr.p, pr.q, m);
        return;
      }
      default: {
        // controlled one-qubit primitive (uncontrolled ones are always in blocks)
        const a = this.angle(pr, row);
        primMatrix(pr, inverse ? -a : a, this.t8, 0);
        if (inverse && pr.kind === K_FIXED1) {
          dag2(this.t8, 0, this.u8, 0);
          kernelFor(this.u8, 0)(s, 0, dim, pr.p, pr.cmask, this.u8, 0);
        } else kernelFor(this.t8, 0)(s, 0, dim, pr.p, pr.cmask, this.t8, 0);
      }
    }
  }

  private ampForward(st: AmpStep, k: number, row: number): number {
    const a = this.ampA[k];
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    let ss = 0;
    for (let j = 0; j < st.length; j++) ss += x[x0 + j] * x[x0 + j];
    const norm = Math.sqrt(ss);
    if (!(norm > 0) || !Number.isFinite(norm))
      throw new Error(
        `inputs: row ${row} fed to the amplitude encoding ops[${st.op}] has zero or non-finite norm`,
      );
    a.fill(0);
    for (let j = 0; j < st.length; j++) a[j] = x[x0 + j] / norm;
    const s = this.psi;
    const offs = st.offsets;
    for (let base = 0; base < this.dim; base++) {
      if ((base & st.mask) !== 0) continue;
      const vr = s[2 * base];
      const vi = s[2 * base + 1];
      for (let j = 0; j < offs.length; j++) {
        const o = 2 * (base + offs[j]);
        s[o] = vr * a[j];
        s[o + 1] = vi * a[j];
      }
    }
    return norm;
  }

  /** Observables of the current ψ into out[o..o+numObs). */
  expvalsRow(out: Float64Array, o: number): void {
    const obs = this.prog.observables;
    if (this.prog.diagObs) {
      // one pass for |ψ_i|², then a signed sum per Z string
      const s = this.psi;
      const w = this.w;
      const dim = this.dim;
      for (let i = 0; i < dim; i++) w[i] = s[2 * i] * s[2 * i] + s[2 * i + 1] * s[2 * i + 1];
      let total = 0;
      for (let i = 0; i < dim; i++) total += w[i];
      for (let i = 0; i < obs.length; i++) {
        const sign = obs[i].masks.sign;
        // a single-wire Z: total − 2 · (mass where the bit is set), over half the entries
        const v =
          sign !== 0 && (sign & (sign - 1)) === 0
            ? total - 2 * bitSum(w, dim, sign)
            : signedSum(w, dim, sign, 0, this.prog.parity);
        out[o + i] = obs[i].coeff * v;
      }
      return;
    }
    for (let i = 0; i < obs.length; i++)
      out[o + i] = obs[i].coeff * pauliInner(this.psi, 0, this.psi, 0, this.dim, obs[i].masks, 0, false);
  }

  /**
   * Adjoint pass for the row whose final state is in `psi`: g = ∂L/∂expvals of this row (at g[go..]).
   * Adds ∂L/∂θ into dParams and writes ∂L/∂x of the row into dInputs. Destroys psi.
   */
  backwardRow(
    row: number,
    g: ArrayLike<number>,
    go: number,
    dParams: Float64Array,
    dInputs: Float64Array,
  ): void {
    const s = this.psi;
    const l = this.lam;
    const dim = this.dim;
    const { steps, prims, observables } = this.prog;
    if (this.prog.diagObs) {
      // λ = Σ_o g_o O_o ψ with every O_o diagonal: one real weight per amplitude
      const h = this.w;
      const par = this.prog.parity;
      const bw = this.bitW;
      bw.fill(0);
      let c0 = 0;
      for (let i = 0; i < observables.length; i++) {
        const sign = observables[i].masks.sign;
        if (sign !== 0 && (sign & (sign - 1)) === 0) {
          const wt = g[go + i] * observables[i].coeff;
          bw[31 - Math.clz32(sign)] += wt;
          c0 += wt;
        }
      }
      // single-wire Z terms by doubling: h over bits 0..p−1 extends to bit p in 2^p steps
      h[0] = c0;
      for (let p = 0, len = 1; len < dim; p++, len <<= 1) {
        const d = 2 * bw[p];
        for (let j = 0; j < len; j++) h[j + len] = h[j] - d;
      }
      for (let i = 0; i < observables.length; i++) {
        const sign = observables[i].masks.sign;
        if (sign !== 0 && (sign & (sign - 1)) === 0) continue;
        const wt = g[go + i] * observables[i].coeff;
        if (wt === 0) continue;
        for (let j = 0; j < dim; j++) h[j] += par[j & sign] ? -wt : wt;
      }
      for (let j = 0; j < dim; j++) {
        l[2 * j] = h[j] * s[2 * j];
        l[2 * j + 1] = h[j] * s[2 * j + 1];
      }
    } else {
      l.fill(0);
      for (let i = 0; i < observables.length; i++) {
        const w = g[go + i] * observables[i].coeff;
        if (w !== 0) addPauliApplied(l, s, 0, dim, observables[i].masks, w);
      }
    }
    const rho = this.rho;
    // with a tape, ψ after step k is read from the forward pass and only λ is stepped back
    const tape = this.tape !== null && this.taped === row ? this.tape : null;
    const n2 = 2 * dim;
    for (let k = steps.length - 1; k >= 0; k--) {
      const st = steps[k];
      const so = n2 * k;
      if (st.type === 'block') {
        if (st.perRow) this.buildBlock(st, k, row);
        dag2(this.bm, 8 * k, this.u8, 0);
        if (!st.diff) {
          if (!tape) this.mat1U(s, 0, st.p, this.u8, 0);
          this.mat1U(l, 0, st.p, this.u8, 0);
          continue;
        }
        if (tape) {
          const w = this.wasm;
          if (w !== null && tape.buffer === w.memory.buffer && l.buffer === w.memory.buffer)
            adjointStep1Wasm(w, tape.byteOffset + 4 * so, l.byteOffset, dim, st.p, this.u8, rho);
          else adjointStep1Tape(tape, so, l, dim, st.p, this.u8, rho);
        } else {
          adjointStep1Tape(s, 0, l, dim, st.p, this.u8, rho);
          this.mat1U(s, 0, st.p, this.u8, 0);
        }
        // ρ_j is the cross density after primitive j; step it back through each factor on 2×2s
        for (let j = st.prims.length - 1; j >= 0; j--) {
          const pi = st.prims[j];
          const pr = prims[pi];
          if (pr.src !== SRC_CONST) this.addGrad(pr, row, 2 * genTraceIm(pr, rho), dParams, dInputs);
          if (j > 0) {
            // ρ ← U† ρ U
            mul2(rho, 0, this.pm, 8 * pi, rho, 8);
            dag2(this.pm, 8 * pi, this.t8, 0);
            mul2(this.t8, 0, rho, 8, rho, 0);
          }
        }
      } else if (st.type === 'prim') {
        const pr = prims[st.prim];
        if (pr.src !== SRC_CONST) {
          const im = pr.genScale * pauliInner(l, 0, tape ?? s, tape ? so : 0, dim, pr.gen, pr.genCmask, true);
          this.addGrad(pr, row, 2 * im, dParams, dInputs);
        }
        if (!tape) this.applyPrim(s, pr, row, true);
        this.applyPrim(l, pr, row, true);
      } else if (st.type === 'diag') {
        if (st.perRow) this.buildDiag(st, k, row);
        const ws = this.wasm;
        let w: Float64Array | Float32Array = this.w;
        if (tape !== null && ws !== null && tape.buffer === ws.memory.buffer && this.wF32 !== null) {
          ws.dadj(tape.byteOffset + 4 * so, l.byteOffset, this.diagAt[k], dim, this.wAt);
          w = this.wF32;
        } else if (tape) adjointDiagTape(tape, so, l, dim, this.dt[k], this.w);
        else {
          adjointDiagTape(s, 0, l, dim, this.dt[k], this.w);
          applyDiagTable(s, 0, s, 0, dim, this.dt[k], true);
        }
        // w is the same at every point of the run (its gates commute), so one pass serves all of them
        // two or more generators on the wasm path: one SIMD Walsh–Hadamard transform of w gives every signed
        // sum at once (W[m] = Σ w_i (−1)^|i & m|), instead of one scalar pass per generator
        const wht = w === this.wF32 && this.diffCount[k] >= 2;
        if (wht) this.wasm!.wht(this.wAt, dim);
        if (st.diff)
          for (const pi of st.prims) {
            const pr = prims[pi];
            if (pr.src === SRC_CONST) continue;
            const sum = wht
              ? walshSum(w, pr.gen.sign, pr.genCmask)
              : signedSum(w, dim, pr.gen.sign, pr.genCmask, this.prog.parity);
            this.addGrad(pr, row, 2 * pr.genScale * sum, dParams, dInputs);
          }
      } else if (st.type === 'perm') {
        if (!tape) this.gather(s, this.permInvAt[k], st.inv);
        this.gather(l, this.permInvAt[k], st.inv);
      } else {
        if (tape) for (let i = 0; i < n2; i++) s[i] = tape[so + i];
        this.ampBackward(st, k, row, dInputs);
      }
    }
  }

  /** Row a (ψ or λ) permuted in place by a gather table: the wasm kernel when a lives in wasm memory. */
  private gather(a: Amps, at: number, idx: Int32Array): void {
    const w = this.wasm;
    if (w !== null && a.buffer === w.memory.buffer) {
      w.gather(a.byteOffset, this.tmp.byteOffset, at, this.dim);
      a.set(this.tmp);
    } else applyGather(a, 0, this.dim, idx, this.tmp);
  }

  private addGrad(pr: Prim, row: number, gAngle: number, dParams: Float64Array, dInputs: Float64Array): void {
    if (pr.src === SRC_PARAM) dParams[pr.index] += pr.scale * gAngle;
    else dInputs[row * this.prog.numInputs + pr.index] += pr.scale * gAngle;
  }

  private ampBackward(st: AmpStep, k: number, row: number, dInputs: Float64Array): void {
    const a = this.ampA[k];
    const ga = this.ampG[k];
    // a_j of this row (the forward pass of a later row may have overwritten it)
    const x = this.inputs;
    const x0 = row * this.prog.numInputs + st.start;
    let ss = 0;
    for (let j = 0; j < st.length; j++) ss += x[x0 + j] * x[x0 + j];
    const norm = Math.sqrt(ss);
    a.fill(0);
    for (let j = 0; j < st.length; j++) a[j] = x[x0 + j] / norm;
    ga.fill(0);
    const s = this.psi;
    const l = this.lam;
    const offs = st.offsets;
    for (let base = 0; base < this.dim; base++) {
      if ((base & st.mask) !== 0) continue;
      // ψ before = V†ψ, λ before = V†λ, with V|v⟩ = |v⟩ ⊗ Σ a_j |j⟩
      let vr = 0;
      let vi = 0;
      let wr = 0;
      let wi = 0;
      for (let j = 0; j < st.length; j++) {
        const o = 2 * (base + offs[j]);
        vr += a[j] * s[o];
        vi += a[j] * s[o + 1];
        wr += a[j] * l[o];
        wi += a[j] * l[o + 1];
      }
      for (let j = 0; j < st.length; j++) {
        const o = 2 * (base + offs[j]);
        ga[j] += 2 * (l[o] * vr + l[o + 1] * vi);
      }
      for (let j = 1; j < offs.length; j++) {
        const o = 2 * (base + offs[j]);
        s[o] = 0;
        s[o + 1] = 0;
        l[o] = 0;
        l[o + 1] = 0;
      }
      s[2 * base] = vr;
      s[2 * base + 1] = vi;
      l[2 * base] = wr;
      l[2 * base + 1] = wi;
    }
    // through a = x/‖x‖: ∂L/∂x = (g − a(a·g))/‖x‖
    let ag = 0;
    for (let j = 0; j < st.length; j++) ag += a[j] * ga[j];
    const d0 = row * this.prog.numInputs + st.start;
    for (let j = 0; j < st.length; j++) dInputs[d0 + j] += (ga[j] - a[j] * ag) / norm;
  }
}

/**
 * Σ over the i ⊇ cmask of w_i (−1)^|i & sign| from W, the Walsh–Hadamard transform of w: the indicator of
 * i ⊇ cmask is 2^−|cmask| Σ over S ⊆ cmask of (−1)^|S| (−1)^|i & S|.
 */
function walshSum(W: Float32Array | Float64Array, sign: number, cmask: number): number {
  if (cmask === 0) return W[sign];
  let acc = 0;
  let terms = 0;
  for (let sub = cmask; ; sub = (sub - 1) & cmask) {
    let odd = 0;
    for (let c = sub; c !== 0; c &= c - 1) odd ^= 1;
    acc += odd ? -W[sign ^ sub] : W[sign ^ sub];
    terms++;
    if (sub === 0) break;
  }
  return acc / terms;
}

/** Σ of w_i over the i with bit `b` (a one-bit mask) set. */
function bitSum(w: Float64Array, dim: number, b: number): number {
  let acc = 0;
  for (let base = b; base < dim; base += 2 * b) for (let i = base; i < base + b; i++) acc += w[i];
  return acc;
}

/** Im Tr(G ρ) for a one-qubit primitive's generator G (ρ_ab = Σ ψ_a conj(λ_b), so Tr(Gρ) = ⟨λ|G|ψ⟩). */
function genTraceIm(pr: Prim, rho: Float64Array): number {
  // rho: [00r, 00i, 01r, 01i, 10r, 10i, 11r, 11i]
  if (pr.kind === K_PHASE) return -rho[7]; // G = −|1⟩⟨1|
  if (pr.pauli === 0) return 0.5 * (rho[5] + rho[3]); // X/2: ρ10 + ρ01
  if (pr.pauli === 1) return 0.5 * (-rho[4] + rho[2]); // Y/2: −iρ10 + iρ01 → Im = −Re ρ10 + Re ρ01
  return 0.5 * (rho[1] - rho[7]); // Z/2
}
