// The shared memory of the synchronous row pool (sync-pool.ts) and the loop its workers run: every operand and
// result lives in one growable SharedArrayBuffer (the arena), the circuit of the current call in another (bytes),
// and each worker sleeps in Atomics.wait on its control block. A call is a few integers written there, so a
// worker blocked in Atomics.wait needs no message to learn of it.
import { deserialize } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import type { Precision } from '../backend';
import type { Circuit } from '../circuit';
import { GRAD_CHUNK } from './engine';
import { compile, type Program } from './program';
import { expvalRows, vjpRows } from './run';

/** A worker's control block (Int32): a call's sequence number, done flag, op, row range, then an error message. */
export const C_SEQ = 0;
export const C_DONE = 1;
export const C_OP = 2;
export const C_R0 = 3;
export const C_R1 = 4;
export const C_ERRLEN = 5;
export const C_ERR = 8;
export const CTRL_INTS = C_ERR + 256;
export const OP_EXPVAL = 1;
export const OP_VJP = 2;
export const OP_QUIT = -1;
export const DONE_OK = 1;
export const DONE_FAILED = 2;

/** The job header every worker reads (Int32): the circuit's key and its byte length in `bytes`, precision, batch. */
export const J_KEY = 0;
export const J_BYTES = 1;
export const J_F64 = 2;
export const J_BATCH = 3;
export const JOB_INTS = 4;

export interface SyncWorkerData {
  kind: 'sync-rows';
  ctrl: Int32Array;
  job: Int32Array;
  /** Float64 arena, laid out by arenaLayout. */
  arena: SharedArrayBuffer;
  /** The current circuit, v8-serialised. */
  bytes: SharedArrayBuffer;
}

/** Offsets (in float64s) of a call's arrays in the arena; rows are at their absolute positions. */
export interface ArenaLayout {
  params: number; // (numParams)
  inputs: number; // (batch, numInputs)
  g: number; // (batch, numObs) ∂L/∂expvals
  expvals: number; // (batch, numObs)
  norms: number; // (batch, numAmp)
  dInputs: number; // (batch, numInputs)
  dParamChunks: number; // (⌈batch/GRAD_CHUNK⌉, numParams)
  total: number;
}

export function arenaLayout(prog: Program, batch: number): ArenaLayout {
  let o = 0;
  const at = (n: number): number => ((o += n), o - n);
  const nObs = prog.observables.length;
  return {
    params: at(prog.numParams),
    inputs: at(batch * prog.numInputs),
    g: at(batch * nObs),
    expvals: at(batch * nObs),
    norms: at(batch * prog.numAmp),
    dInputs: at(batch * prog.numInputs),
    dParamChunks: at(Math.ceil(batch / GRAD_CHUNK) * prog.numParams),
    total: o,
  };
}

/** Compiled programs by circuit key, newest last; a few, since a model alternates between a handful of circuits. */
const PROGRAMS_KEPT = 8;

/** Runs rows [r0, r1) of the job in the arena with the same drivers as the calling thread, results in place. */
function runShare(
  d: SyncWorkerData,
  programs: Map<number, Program>,
  op: number,
  r0: number,
  r1: number,
): void {
  const key = d.job[J_KEY];
  let prog = programs.get(key);
  if (!prog) {
    prog = compile(deserialize(new Uint8Array(d.bytes, 0, d.job[J_BYTES]).slice()) as Circuit);
    programs.set(key, prog);
    if (programs.size > PROGRAMS_KEPT) programs.delete(programs.keys().next().value!);
  }
  const precision: Precision = d.job[J_F64] ? 'f64' : 'f32';
  const L = arenaLayout(prog, d.job[J_BATCH]);
  const a = new Float64Array(d.arena, 0, L.total);
  const [ni, no, na, np] = [prog.numInputs, prog.observables.length, prog.numAmp, prog.numParams];
  const params = a.subarray(L.params, L.params + np);
  const inputs = a.subarray(L.inputs + r0 * ni, L.inputs + r1 * ni);
  if (op === OP_EXPVAL) {
    // written straight into the arena (its pages mapped by earlier calls), not into fresh arrays then copied
    expvalRows(prog, precision, params, inputs, 0, r1 - r0, {
      expvals: a.subarray(L.expvals + r0 * no, L.expvals + r1 * no),
      norms: a.subarray(L.norms + r0 * na, L.norms + r1 * na),
    });
    return;
  }
  const g = a.subarray(L.g + r0 * no, L.g + r1 * no);
  const r = vjpRows(prog, precision, params, inputs, g, 0, r1 - r0, {
    expvals: a.subarray(L.expvals + r0 * no, L.expvals + r1 * no),
    norms: a.subarray(L.norms + r0 * na, L.norms + r1 * na),
    dInputs: a.subarray(L.dInputs + r0 * ni, L.dInputs + r1 * ni),
  });
  a.set(r.dParamChunks, L.dParamChunks + (r0 / GRAD_CHUNK) * np);
}

/** The worker's side: report ready, then sleep on the control block and run each call until OP_QUIT. */
export function serveSyncRows(port: MessagePort, d: SyncWorkerData): void {
  const c = d.ctrl;
  const programs = new Map<number, Program>();
  port.postMessage('ready');
  let seen = 0;
  for (;;) {
    // a wake-up is no call by itself: the caller's notify for a call already taken (seen between its add and its
    // notify) can land while this worker sleeps for the next one, so the sequence number is checked after each wait
    while (Atomics.load(c, C_SEQ) === seen) Atomics.wait(c, C_SEQ, seen);
    seen = Atomics.load(c, C_SEQ);
    const op = c[C_OP];
    if (op === OP_QUIT) break;
    let done = DONE_OK;
    try {
      runShare(d, programs, op, c[C_R0], c[C_R1]);
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).slice(0, CTRL_INTS - C_ERR);
      for (let i = 0; i < msg.length; i++) c[C_ERR + i] = msg.charCodeAt(i);
      c[C_ERRLEN] = msg.length;
      done = DONE_FAILED;
    }
    Atomics.store(c, C_DONE, done);
    Atomics.notify(c, C_DONE);
  }
  port.close();
}
