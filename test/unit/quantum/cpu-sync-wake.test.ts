// The synchronous row pool's wake-up: a worker woken with no new call sleeps again. The caller's post() writes the
// call's op and rows, adds to the sequence number and notifies; a worker whose Atomics.wait found the number moved
// runs the call without that notify, so when the caller is descheduled between its add and notify, the notify
// lands once the worker sleeps for the next call, maybe while the caller writes that call's op. The worker used
// to take any wake-up for a call and ran whatever op it then read, with the last call's rows.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CircuitBuilder } from '../../../core/quantum/circuit';
import { compile } from '../../../core/quantum/cpu/program';
import * as S from '../../../core/quantum/cpu/shared-rows';
import { startSyncRowPool } from '../../../core/quantum/cpu/sync-pool';
import { startThread } from '../../../core/util/thread';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the synchronous row pool when a notify comes late', () => {
  it('a worker woken with its sequence number unchanged runs nothing and stays in the pool', async () => {
    const threads = new URL('../../../core/quantum/cpu/threads.ts', import.meta.url);
    let ctrl: Int32Array | null = null;
    const pool = await startSyncRowPool(1, (data): Worker => {
      ctrl = data.ctrl;
      return startThread(threads, data);
    });
    try {
      const b = new CircuitBuilder(3, 1);
      b.gate('RX', [0], [b.x(0)])
        .gate('CNOT', [0, 1])
        .gate('RY', [2], [b.p()]);
      const c = b.observe([{ ops: [{ wire: 1, pauli: 'Z' }] }]).build();
      const prog = compile(c);
      const batch = 64;
      const req = {
        circuit: c,
        params: Float64Array.of(0.3),
        inputs: Float32Array.from({ length: batch }, (_, i) => Math.sin(i)),
        batch,
      };
      const ranges: [number, number][] = [
        [0, 32],
        [32, 64],
      ];
      const first = pool.expval(prog, 'f64', req, ranges).flatMap((p) => Array.from(p.expvals));
      const cb = ctrl as unknown as Int32Array;
      const seq = Atomics.load(cb, S.C_SEQ);
      await pause(50); // the worker is back in Atomics.wait for the next call
      // the caller has written the next call's op (here: quit) but not yet added; the last call's notify lands
      const op = cb[S.C_OP];
      cb[S.C_OP] = S.OP_QUIT;
      Atomics.notify(cb, S.C_SEQ);
      await pause(300); // the old worker read the op at once, quit and exited
      cb[S.C_OP] = op;
      expect(Atomics.load(cb, S.C_SEQ)).toBe(seq);
      expect(pool.unusable(prog, batch)).toBeNull();
      const again = pool.expval(prog, 'f64', req, ranges).flatMap((p) => Array.from(p.expvals));
      expect(again).toEqual(first);
      // ⟨Z₁⟩ after RX(x)·CNOT: cos x
      for (let i = 0; i < batch; i++) expect(first[i]).toBeCloseTo(Math.cos(Math.sin(i)), 6);
    } finally {
      pool.close();
    }
  });
});
