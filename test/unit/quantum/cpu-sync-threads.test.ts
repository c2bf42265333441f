// The synchronous row pool (core/quantum/cpu/sync-pool.ts): expvalSync/vjpSync split over worker threads compute
// bit for bit what one thread does, across circuit changes, and leave no worker that keeps a process alive.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRequest, ExpvalResult, Precision, VjpResult } from '../../../core/quantum/backend';
import { CircuitBuilder, type Circuit } from '../../../core/quantum/circuit';
import { compile } from '../../../core/quantum/cpu/program';
import * as S from '../../../core/quantum/cpu/shared-rows';
import { createCpuSimulator, type CpuSimulator } from '../../../core/quantum/cpu/simulator';
import { startSyncRowPool } from '../../../core/quantum/cpu/sync-pool';
import { stronglyEntanglingLayers } from '../../../core/quantum/templates';
import { mulberry32 as rng } from '../../helpers/quantum';

/** Amplitude-encoded features (norms reported), angle-encoded ones, entangling layers, Z and a mixed observable. */
function circuit(qubits: number, depth: number): Circuit {
  const b = new CircuitBuilder(qubits, 6);
  b.amplitude([0, 1], 0, 4);
  b.gate('RY', [2], [b.x(4, 1.3)]).gate('RX', [qubits - 1], [b.x(5)]);
  stronglyEntanglingLayers(b, depth);
  return b
    .observe([
      { ops: [{ wire: 0, pauli: 'Z' }] },
      {
        coeff: 0.5,
        ops: [
          { wire: 1, pauli: 'X' },
          { wire: qubits - 1, pauli: 'Y' },
        ],
      },
      { ops: [{ wire: 2, pauli: 'Z' }] },
    ])
    .build();
}

function request(c: Circuit, batch: number, seed: number): { req: BatchRequest; g: Float64Array } {
  const r = rng(seed);
  const params = Float64Array.from({ length: c.numParams }, () => 6 * r() - 3);
  const inputs = Float32Array.from({ length: batch * c.numInputs }, () => 2 * r() - 1);
  const g = Float64Array.from({ length: batch * 3 }, () => r() - 0.5);
  return { req: { circuit: c, params, inputs, batch }, g };
}

function same(a: ExpvalResult | VjpResult, b: ExpvalResult | VjpResult): void {
  expect(Array.from(b.expvals)).toEqual(Array.from(a.expvals));
  expect(Array.from(b.norms)).toEqual(Array.from(a.norms));
  if ('dParams' in a && 'dParams' in b) {
    expect(Array.from(b.dParams)).toEqual(Array.from(a.dParams));
    expect(Array.from(b.dInputs)).toEqual(Array.from(a.dInputs));
  }
}

describe('synchronous calls on worker threads', () => {
  const sims: Partial<Record<Precision, { one: CpuSimulator; three: CpuSimulator }>> = {};
  beforeAll(async () => {
    for (const precision of ['f32', 'f64'] as const) {
      const three = createCpuSimulator({ precision, threads: 3 }); // the calling thread and 2 workers
      await three.prepareSync();
      sims[precision] = { one: createCpuSimulator({ precision }), three };
    }
  });
  afterAll(() => {
    for (const s of Object.values(sims)) s.three.dispose();
  });

  for (const precision of ['f32', 'f64'] as const)
    it(`${precision}: equal one thread bit for bit over 2 workers (batches 64, 200, 257) and across circuits`, () => {
      const { one, three } = sims[precision]!;
      // 5 qubits: the wasm kernels in f32; a second circuit of another width, then the first again
      const first = circuit(5, 2);
      const circuits = [first, circuit(4, 3), first];
      let seed = 1;
      for (const c of circuits)
        for (const batch of [64, 200, 257]) {
          const { req, g } = request(c, batch, seed++);
          const e = three.expvalSync(req);
          expect(e.info.mode).toMatch(/-threads$/);
          expect(e.info.fallbackReason).toBeUndefined();
          same(one.expvalSync(req), e);
          const v = three.vjpSync(req, g);
          expect(v.info.mode).toMatch(/-threads$/);
          same(one.vjpSync(req, g), v);
        }
    });

  it('runs a batch below 2·GRAD_CHUNK in the calling thread, with no fallback reason', () => {
    const { one, three } = sims.f64!;
    const { req, g } = request(circuit(4, 1), 63, 9);
    const v = three.vjpSync(req, g);
    expect(v.info).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f64' });
    same(one.vjpSync(req, g), v);
  });

  it('answers in the calling thread until the workers are ready, saying why, with the same numbers', async () => {
    const s = createCpuSimulator({ precision: 'f64', threads: 2 });
    try {
      const { req, g } = request(circuit(4, 1), 100, 11);
      const before = s.vjpSync(req, g); // this call starts the workers in the background
      expect(before.info.mode).toBe('wasm-simd');
      expect(before.info.fallbackReason).toMatch(/worker threads still starting/);
      await s.prepareSync();
      const after = s.vjpSync(req, g);
      expect(after.info).toMatchObject({ mode: 'wasm-simd-threads', threads: 2 });
      same(before, after);
    } finally {
      s.dispose();
    }
    const { req } = request(circuit(4, 1), 100, 12);
    expect(s.expvalSync(req).info.fallbackReason).toMatch(/disposed/);
  });

  it('names the field of a bad dExpvals before any worker runs', () => {
    const { req, g } = request(circuit(4, 1), 100, 13);
    expect(() => sims.f64!.three.vjpSync(req, g.subarray(1))).toThrow(
      /dExpvals: need batch × numObservables/,
    );
    // the pool still answers afterwards
    same(sims.f64!.one.vjpSync(req, g), sims.f64!.three.vjpSync(req, g));
  });
});

describe('the synchronous pool when a worker fails', () => {
  const evalWorker = (src: string) => (data: S.SyncWorkerData) =>
    new Worker(`const { parentPort, workerData: d } = require('node:worker_threads');\n${src}`, {
      eval: true,
      workerData: data,
    });

  it('rejects the start when a worker dies before it is ready', async () => {
    await expect(startSyncRowPool(1, evalWorker("throw new Error('no engine here');"))).rejects.toThrow(
      /no engine here/,
    );
  });

  it("throws a worker's error from the call once every worker is done", async () => {
    // a stand-in worker that fails every call the way serveSyncRows reports a failure
    const pool = await startSyncRowPool(
      2,
      evalWorker(`parentPort.postMessage('ready');
const c = d.ctrl; let seen = 0;
for (;;) {
  Atomics.wait(c, ${S.C_SEQ}, seen); seen = Atomics.load(c, ${S.C_SEQ});
  if (c[${S.C_OP}] === ${S.OP_QUIT}) break;
  const msg = 'rows ' + c[${S.C_R0}] + '–' + c[${S.C_R1}] + ' failed';
  for (let i = 0; i < msg.length; i++) c[${S.C_ERR} + i] = msg.charCodeAt(i);
  c[${S.C_ERRLEN}] = msg.length;
  Atomics.store(c, ${S.C_DONE}, ${S.DONE_FAILED}); Atomics.notify(c, ${S.C_DONE});
}`),
    );
    try {
      const c = circuit(4, 1);
      const { req } = request(c, 200, 14);
      const ranges: [number, number][] = [
        [0, 96],
        [96, 192],
        [192, 200],
      ];
      expect(() => pool.expval(compile(c), 'f64', req, ranges)).toThrow(
        /^worker thread: rows 96–192 failed$/,
      );
      expect(pool.unusable(compile(c), 200)).toBeNull();
    } finally {
      pool.close();
    }
  });

  it('throws in bounded time, and turns itself off, when a worker dies during a call', async () => {
    // ready, then gone at its first call without a word: the caller is blocked in Atomics.wait meanwhile
    const pool = await startSyncRowPool(
      1,
      evalWorker(`parentPort.postMessage('ready');
Atomics.wait(d.ctrl, ${S.C_SEQ}, 0); process.exit(7);`),
      { stallMs: 300 },
    );
    try {
      const c = circuit(4, 1);
      const { req } = request(c, 64, 3);
      const t0 = performance.now();
      expect(() =>
        pool.expval(compile(c), 'f64', req, [
          [0, 32],
          [32, 64],
        ]),
      ).toThrow(/^worker thread 0: no result after \d+ ms; the pool is off$/);
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(pool.unusable(compile(c), 64)).toMatch(/worker thread 0 gave no result|exited/);
    } finally {
      pool.close();
    }
  });

  it('turns itself off when a worker exits while the caller is idle', async () => {
    const pool = await startSyncRowPool(1, evalWorker("parentPort.postMessage('ready'); process.exit(3);"));
    const prog = compile(circuit(4, 1));
    for (let i = 0; i < 100 && pool.unusable(prog, 100) === null; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(pool.unusable(prog, 100)).toMatch(/a worker thread exited \(code 3\)/);
    pool.close();
  });
});

describe('synchronous worker threads and process exit', () => {
  for (const dispose of [true, false])
    it(`a child process exits after threaded synchronous calls (${dispose ? 'disposed' : 'never disposed'})`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'qlab-sync-threads-'));
      const sim = new URL('../../../core/quantum/cpu/simulator.ts', import.meta.url).href;
      const circ = new URL('../../../core/quantum/circuit.ts', import.meta.url).href;
      const file = join(dir, 'run.mts');
      writeFileSync(
        file,
        `import { createCpuSimulator } from ${JSON.stringify(sim)};
import { CircuitBuilder } from ${JSON.stringify(circ)};
const b = new CircuitBuilder(3, 1);
b.gate('RX', [0], [b.x(0)]).gate('CNOT', [0, 1]).gate('RY', [2], [b.p()]);
const c = b.build();
const s = createCpuSimulator({ precision: 'f64', threads: 2 });
await s.prepareSync();
const B = 128;
const req = { circuit: c, params: [0.4], inputs: Array.from({ length: B }, (_, i) => i / B), batch: B };
const r = s.vjpSync(req, new Float64Array(3 * B).fill(1));
${dispose ? 's.dispose();' : ''}
process.stdout.write(r.info.mode + ' ' + r.expvals[3 * 100].toFixed(12));
`,
      );
      try {
        const out = execFileSync(process.execPath, ['--import', 'tsx', file], {
          cwd: fileURLToPath(new URL('../../..', import.meta.url)),
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(out).toBe(`wasm-simd-threads ${Math.cos(100 / 128).toFixed(12)}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 70_000);
});

describe('the synchronous pool stays out of the isomorphic graph', () => {
  it('the cpu simulator and the quantum layers load no node: module statically (only import() reaches threads.ts)', () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const IMPORT = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
    const seen = new Set<string>();
    const packages = new Set<string>();
    const todo = ['core/quantum/cpu/simulator.ts', 'core/nn/quantum-layer.ts'].map((f) => join(root, f));
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const [, spec] of readFileSync(f, 'utf8').matchAll(IMPORT)) {
        if (!spec.startsWith('.')) packages.add(spec);
        else todo.push([`${resolve(dirname(f), spec)}.ts`, resolve(dirname(f), spec)].find(existsSync)!);
      }
    }
    expect([...seen].some((f) => f.endsWith('sync-threads.ts'))).toBe(true);
    expect([...seen].filter((f) => /(sync-pool|shared-rows|\/threads)\.ts$/.test(f))).toEqual([]);
    expect([...packages]).toEqual([]);
  });
});
