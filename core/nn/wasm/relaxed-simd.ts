// Relaxed SIMD (f32x4.relaxed_madd, the wasm gemm's fused multiply-add). Electron's V8 and Node ≥ 22 ship it;
// Node 20's V8 11.3 keeps it behind a V8 flag. V8 flags are process-wide and Node documents changing them after
// the VM has started as undefined behaviour, so the flag is given where a process starts: the job launcher puts
// it in a child's execArgv, vitest's forks get it the same way, and the qlab entry (which cannot take V8 options
// through its shebang) sets it first thing, before anything compiles. The engine itself only feature-detects.

import { RELAXED_SIMD_PROBE } from './relaxed-probe';

export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/** Whether this runtime compiles relaxed SIMD now. */
export function relaxedSimdValidates(): boolean {
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

let shippedAtEntry: boolean | undefined;

function fmaOff(): boolean {
  return process.env.QLAB_WASM_FMA === '0';
}

/**
 * For a process entry, before any module compiles WebAssembly: turns V8's relaxed-SIMD flag on where this runtime
 * has it only behind the flag (no-op where it is shipped, or with QLAB_WASM_FMA=0).
 */
export async function enableRelaxedSimdAtEntry(): Promise<void> {
  shippedAtEntry = relaxedSimdValidates();
  if (shippedAtEntry || fmaOff()) return;
  const v8 = await import('node:v8');
  v8.setFlagsFromString(RELAXED_SIMD_FLAG);
}

/**
 * The execArgv a child Node process (the same binary) needs for relaxed SIMD from its start: the flag where this
 * runtime has it only behind the flag, nothing where it is shipped (or with QLAB_WASM_FMA=0).
 */
export function relaxedSimdExecArgv(): string[] {
  if (fmaOff()) return [];
  if (process.execArgv.includes(RELAXED_SIMD_FLAG)) return [RELAXED_SIMD_FLAG];
  return (shippedAtEntry ?? relaxedSimdValidates()) ? [] : [RELAXED_SIMD_FLAG];
}
