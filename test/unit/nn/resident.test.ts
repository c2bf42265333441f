// Arrays resident in the wasm matmul engine's memory (WasmGemm.allocResident, allocMatmulResident): products read
// and write them in place, with the same results as staged copies, and a transformer trains on them bit-identically.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allocMatmulResident,
  isMatmulResident,
  matmulAB,
  matmulABt,
  matmulABtNaive,
  matmulAtB,
  matmulKernel,
} from '../../../core/nn/matmul';
import { setMatmulThreads } from '../../../core/nn/matmul-threads';
import { softmaxCrossEntropyForward } from '../../../core/nn/losses';
import { AdamW } from '../../../core/nn/optim';
import { zeroGrad } from '../../../core/nn/tensor';
import { setWasmRowKernels } from '../../../core/nn/rows';
import { Transformer, withResidentTraining } from '../../../core/nn/transformer';
import { WasmGemm, wasmGemm } from '../../../core/nn/wasm/gemm';
import { relaxedSimdExecArgv } from '../../../core/nn/wasm/relaxed-simd';
import { randArr } from './gradcheck';

const w = wasmGemm();
const skip = !w?.shared || matmulKernel() !== 'wasm';
if (skip) console.log('skipping the resident-array tests: no shared wasm engine');

function resident(src: ArrayLike<number>): Float32Array {
  const x = allocMatmulResident(src.length)!;
  x.set(src);
  return x;
}

describe.skipIf(skip)('resident operands', () => {
  afterAll(() => setMatmulThreads(1));

  for (const threads of [1, 2])
    it(`products on resident a, b and out equal the staged ones bit for bit and copy nothing (${threads} thread(s))`, () => {
      setMatmulThreads(threads);
      const [M, N, K] = [67, 45, 33];
      const a = Float32Array.from(randArr(M * K, 1));
      const b = Float32Array.from(randArr(N * K, 2));
      const c0 = Float32Array.from(randArr(M * N, 3));
      const [ra, rb] = [resident(a), resident(b)];
      expect(isMatmulResident(ra) && isMatmulResident(rb) && !isMatmulResident(a)).toBe(true);
      for (const acc of [false, true]) {
        const want = Float32Array.from(c0);
        matmulABt(want, a, b, M, N, K, acc);
        const got = resident(c0);
        const before = w!.copiedIn;
        matmulABt(got, ra, rb, M, N, K, acc);
        expect(w!.copiedIn - before).toBe(0); // neither operands nor the accumulated C were copied in
        expect(Array.from(got)).toEqual(Array.from(want));
        // mixed: only the ordinary operand is copied
        const got2 = resident(c0);
        const before2 = w!.copiedIn;
        matmulAB(got2, ra, b.subarray(0, K * N), M, N, K, acc);
        expect(w!.copiedIn - before2).toBe(K * N);
        const want2 = Float32Array.from(c0);
        matmulAB(want2, a, b.subarray(0, K * N), M, N, K, acc);
        expect(Array.from(got2)).toEqual(Array.from(want2));
      }
      // Aᵀ·B accumulating into a resident output (the weight gradients' shape)
      const d = Float32Array.from(randArr(M * N, 7));
      const g = resident(new Float32Array(K * N).fill(0.5));
      const gWant = new Float32Array(K * N).fill(0.5);
      matmulAtB(g, ra, resident(d), K, N, M, true);
      matmulAtB(gWant, a, d, K, N, M, true);
      expect(Array.from(g)).toEqual(Array.from(gWant));
    });

  it('an output overlapping a resident operand is staged, so the product reads its inputs unchanged', () => {
    const [M, N, K] = [16, 16, 16];
    const a = Float32Array.from(randArr(M * K, 4));
    const b = Float32Array.from(randArr(N * K, 5));
    // out is a shifted down by 4 rows: in place, the first tile would overwrite rows 4–7 of a before they are read
    const buf = resident(new Float32Array((M + 4) * K));
    buf.set(a);
    const want = new Float64Array(M * N);
    matmulABtNaive(want, Float64Array.from(a), Float64Array.from(b), M, N, K);
    const out = buf.subarray(4 * K, 4 * K + M * N);
    matmulABt(out, buf.subarray(0, M * K), b, M, N, K);
    for (let i = 0; i < M * N; i++) expect(out[i]).toBeCloseTo(want[i], 4);
  });

  it('a resident array keeps its values and stays resident when the memory grows', () => {
    const x = resident(randArr(1000, 6));
    const copy = Float32Array.from(x);
    const big = new Float32Array((40 * 2 ** 20) / 4); // 40 MiB staged: the memory grows past it
    const out = new Float32Array(1);
    matmulABt(out, big.subarray(0, 8), big.subarray(0, big.length), 1, 1, 8); // a 1×1 product
    matmulABt(out, big, big, 1, 1, big.length);
    expect(isMatmulResident(x)).toBe(true);
    expect(Array.from(x)).toEqual(Array.from(copy));
    const y = resident([1, 2, 3, 4]); // made after the growth, on the new buffer object
    expect(isMatmulResident(y)).toBe(true);
    expect(x.byteOffset + x.byteLength).toBeLessThanOrEqual(y.byteOffset); // no overlap
  });

  it('allocResident stays within its budget, refuses while arrays are pinned, and hands out zeroed space', () => {
    const e = new WasmGemm();
    e.residentBudget = 4096;
    const x = e.allocResident(512)!; // 2 KiB
    expect(x).not.toBeNull();
    expect(e.allocResident(600)).toBeNull(); // would pass 4 KiB
    // space staging has used is zeroed when handed out
    const s = e.stage(
      new Float32Array(64).fill(7),
      64,
      new Float32Array(64).fill(7),
      64,
      new Float32Array(1),
      1,
      false,
    )!;
    expect(s.pa).toBeGreaterThanOrEqual(x.byteOffset + x.byteLength);
    e.pin([new Float32Array(16)]);
    expect(e.allocResident(16)).toBeNull();
    e.unpinAll();
    const z = e.allocResident(256)!;
    expect(z.every((v) => v === 0)).toBe(true);
    expect(e.residentBytes).toBe(3072);
    expect(e.allocResident(0)).toBeNull();
  });
});

describe.skipIf(skip)('transformer training on resident activations', () => {
  afterAll(() => setMatmulThreads(1));
  const cfg = {
    flavour: 'llama' as const,
    vocabSize: 96,
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    maxSeqLen: 16,
  };
  const tokens = (B: number, T: number, seed: number) =>
    Int32Array.from(randArr(B * T, seed), (v) => Math.floor(Math.abs(v) * 96) % 96);
  /**
   * A model of cfg (`seed`) trained `steps` AdamW steps, step s on tokens(4, 16, data + s) with targets
   * tokens(4, 16, data + 10 + s); left in training mode.
   */
  const trainFew = (seed: number, steps: number, data: number) => {
    const m = new Transformer(cfg, { seed });
    m.training = true;
    const params = m.parameters();
    const opt = new AdamW(params, { weightDecay: 0.01 });
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      zeroGrad(params);
      losses.push(m.lmForward(tokens(4, 16, data + s), 4, 16, tokens(4, 16, data + 10 + s)));
      m.lmBackward();
      opt.step(1e-2);
    }
    return { m, opt, params, losses };
  };

  it('gives the same losses, gradients and weights bit for bit as ordinary arrays, also across shape changes', () => {
    setMatmulThreads(2);
    const run = (useResident: boolean) => {
      const budget = w!.residentBudget;
      if (!useResident) w!.residentBudget = 0;
      try {
        const m = new Transformer(cfg, { seed: 3 });
        m.training = true;
        const params = m.parameters();
        const opt = new AdamW(params, { weightDecay: 0.01 });
        const losses: number[] = [];
        const bytes: number[] = [];
        const copied: number[] = [];
        for (const [B, T] of [
          [4, 16],
          [2, 16],
          [4, 16],
          [4, 16],
        ]) {
          zeroGrad(params);
          const c0 = w!.copiedIn;
          losses.push(m.lmForward(tokens(B, T, B + losses.length), B, T, tokens(B, T, 50 + losses.length)));
          m.lmBackward();
          copied.push(w!.copiedIn - c0);
          opt.step(1e-2);
          bytes.push(w!.residentBytes);
        }
        return { m, losses, bytes, copied, params };
      } finally {
        w!.residentBudget = budget;
      }
    };
    // the engine's SIMD kernels (softmaxes, SwiGLU, Adam) run whether or not the arrays are resident (copied into
    // the engine around the kernel when not): the same bits either way
    const plain = run(false);
    const simd = run(true);
    expect(simd.losses).toEqual(plain.losses);
    simd.params.forEach((p, i) => {
      expect(Array.from(p.data)).toEqual(Array.from(plain.params[i].data));
      expect(Array.from(p.grad)).toEqual(Array.from(plain.params[i].grad));
    });
    // with the JS kernels everywhere (Math.exp): bit for bit too
    const wasOn = setWasmRowKernels(false);
    let res: ReturnType<typeof run>;
    let plainJs: ReturnType<typeof run>;
    try {
      plainJs = run(false);
      res = run(true);
    } finally {
      setWasmRowKernels(wasOn);
    }
    expect(res.losses).toEqual(plainJs.losses);
    res.params.forEach((p, i) => {
      expect(Array.from(p.data)).toEqual(Array.from(plainJs.params[i].data));
      expect(Array.from(p.grad)).toEqual(Array.from(plainJs.params[i].grad));
    });
    expect(Array.from(res.m.logits!)).toEqual(Array.from(plainJs.m.logits!));
    // the activations and the parameters really were resident: nothing is copied into the engine per step
    expect(res.copied[3]).toBe(0);
    expect(plainJs.copied[3]).toBeGreaterThan(0);
    for (const p of res.params) {
      expect(isMatmulResident(p.data)).toBe(true);
      expect(isMatmulResident(p.grad)).toBe(true);
    }
    expect(plainJs.params.some((p) => isMatmulResident(p.data))).toBe(false);
    // back at (4, 16) the first shape's arrays are reused: nothing more is taken
    expect(res.bytes[3]).toBe(res.bytes[1]);
    expect(res.bytes[1]).toBeGreaterThan(res.bytes[0]);
    // the SIMD kernels against the JS ones: f32 rounding apart
    simd.losses.forEach((l, i) =>
      expect(Math.abs(l - plainJs.losses[i])).toBeLessThan(1e-6 * plainJs.losses[i]),
    );
    expect(simd.losses).not.toEqual(plainJs.losses); // the SIMD path really ran
    simd.params.forEach((p, i) => {
      const q = plainJs.params[i];
      for (let j = 0; j < p.size; j++) {
        expect(Math.abs(p.data[j] - q.data[j])).toBeLessThan(1e-5);
        expect(Math.abs(p.grad[j] - q.grad[j])).toBeLessThan(1e-5 * (1 + Math.abs(q.grad[j])) + 1e-6);
      }
    });
  });

  it("a model trained after another spent the resident budget gives a clean state's numbers bit for bit", () => {
    setMatmulThreads(2);
    const train = (seed: number) => trainFew(seed, 3, 30);
    const budget = w!.residentBudget;
    try {
      // A takes what is left of a small budget (as a reference-sized model takes the 256 MiB), then none is left;
      // B, the same seed and data as C, finds it spent
      w!.residentBudget = w!.residentBytes + 64 * 1024;
      const a = train(7);
      expect(isMatmulResident(a.params[0].data)).toBe(true);
      w!.residentBudget = w!.residentBytes;
      const b = train(8);
      expect(b.params.some((p) => isMatmulResident(p.data))).toBe(false);
      expect(isMatmulResident(b.m.logits!)).toBe(false);
      // C in a clean state: room for everything
      w!.residentBudget = w!.residentBytes + 64 * 2 ** 20;
      const c = train(8);
      expect(c.params.every((p) => isMatmulResident(p.data))).toBe(true);
      expect(isMatmulResident(c.m.logits!)).toBe(true);
      expect(b.losses).toEqual(c.losses);
      b.params.forEach((p, i) => {
        expect(Array.from(p.data)).toEqual(Array.from(c.params[i].data));
        expect(Array.from(p.grad)).toEqual(Array.from(c.params[i].grad));
      });
      // and a fresh process (the same engine kind: FMA or not) gives the same numbers
      const nn = (f: string) => JSON.stringify(pathToFileURL(resolve('core/nn', f)).href);
      const code = `
        const { Transformer } = await import(${nn('transformer.ts')});
        const { AdamW } = await import(${nn('optim.ts')});
        const { zeroGrad } = await import(${nn('tensor.ts')});
        const { setMatmulThreads } = await import(${nn('matmul-threads.ts')});
        const { randArr } = await import(${JSON.stringify(pathToFileURL(resolve('test/unit/nn/gradcheck.ts')).href)});
        const { createHash } = await import('node:crypto');
        setMatmulThreads(2);
        const tokens = (B, T, seed) => Int32Array.from(randArr(B * T, seed), (v) => Math.floor(Math.abs(v) * 96) % 96);
        const m = new Transformer(${JSON.stringify(cfg)}, { seed: 8 });
        m.training = true;
        const params = m.parameters();
        const opt = new AdamW(params, { weightDecay: 0.01 });
        const losses = [];
        for (let s = 0; s < 3; s++) {
          zeroGrad(params);
          losses.push(m.lmForward(tokens(4, 16, 30 + s), 4, 16, tokens(4, 16, 40 + s)));
          m.lmBackward();
          opt.step(1e-2);
        }
        const h = createHash('sha256');
        for (const p of params) h.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
        console.log(JSON.stringify({ losses, hash: h.digest('hex') }));
        process.exit(0);`;
      const r = spawnSync(
        process.execPath,
        [...(w!.fma ? relaxedSimdExecArgv() : []), '--import', 'tsx', '--input-type=module', '-e', code],
        { env: { ...process.env, QLAB_WASM_FMA: w!.fma ? '' : '0' }, encoding: 'utf8', timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const child = JSON.parse(r.stdout.trim().split('\n').pop()!) as { losses: number[]; hash: string };
      const h = createHash('sha256');
      for (const p of c.params) h.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
      expect(child.losses).toEqual(c.losses);
      expect(child.hash).toBe(h.digest('hex'));
    } finally {
      w!.residentBudget = budget;
    }
  });

  it('the engine kernels run only inside a training pass: a loss computed outside after training is the JS one', () => {
    const m = new Transformer(cfg, { seed: 9 });
    m.training = true;
    m.lmForward(tokens(2, 16, 1), 2, 16, tokens(2, 16, 2));
    m.lmBackward();
    const V = 96;
    const logits = Float32Array.from(randArr(2 * V, 11), (v) => 8 * v);
    const probs = new Float32Array(2 * V);
    softmaxCrossEntropyForward(probs, logits, Int32Array.of(3, 5), 2, V);
    for (let n = 0; n < 2; n++) {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[n * V + v] - max);
      for (let v = 0; v < V; v++)
        expect(probs[n * V + v]).toBe(
          Math.fround(Math.fround(Math.exp(logits[n * V + v] - max)) * (1 / sum)),
        );
    }
  });

  it('an evaluation after training (on the resident arrays training left) equals one on a model that never trained', () => {
    setMatmulThreads(2);
    const { m: trained, params } = trainFew(5, 2, 0);
    expect(isMatmulResident(trained.logits!)).toBe(true);
    const fresh = new Transformer(cfg, { seed: 6 });
    fresh.parameters().forEach((p, i) => p.data.set(params[i].data));
    trained.training = false;
    const [x, y] = [tokens(4, 16, 20), tokens(4, 16, 21)];
    const a = trained.lmForward(x, 4, 16, y);
    const logitsA = Array.from(trained.logits!.subarray(0, 4 * 16 * 96));
    const b = fresh.lmForward(x, 4, 16, y);
    expect(isMatmulResident(fresh.logits!)).toBe(false);
    expect(a).toBe(b);
    expect(logitsA).toEqual(Array.from(fresh.logits!.subarray(0, 4 * 16 * 96)));
  });

  it("releaseResident gives a trained model's engine memory back: the next model reuses it, the model still evaluates", () => {
    setMatmulThreads(2);
    const train = (seed: number) => {
      const r = trainFew(seed, 2, 60);
      r.m.training = false;
      return r;
    };
    const a = train(11);
    expect(a.params.every((p) => isMatmulResident(p.data))).toBe(true);
    const held = w!.residentBytes;
    const [x, y] = [tokens(4, 16, 80), tokens(4, 16, 81)];
    const before = a.m.lmForward(x, 4, 16, y);
    const weights = a.params.map((p) => Array.from(p.data));
    a.m.releaseResident();
    a.opt.releaseResident();
    expect(a.params.some((p) => isMatmulResident(p.data) || isMatmulResident(p.grad))).toBe(false);
    expect(w!.residentBytes).toBeLessThan(held);
    // the same weights, the same evaluation
    a.params.forEach((p, i) => expect(Array.from(p.data)).toEqual(weights[i]));
    expect(a.m.lmForward(x, 4, 16, y)).toBe(before);
    // a model trained next takes the space back instead of new space: the engine's memory does not grow
    const top = w!.memory.buffer.byteLength;
    const b = train(12);
    expect(b.params.every((p) => isMatmulResident(p.data))).toBe(true);
    expect(w!.residentBytes).toBe(held);
    expect(w!.memory.buffer.byteLength).toBe(top);
    // and A trains again (resident again) with its moments carried over
    a.m.training = true;
    zeroGrad(a.params);
    a.m.lmForward(x, 4, 16, y);
    a.m.lmBackward();
    a.opt.step(1e-2);
    expect(a.params.every((p) => isMatmulResident(p.data))).toBe(true);
    b.m.releaseResident();
    b.opt.releaseResident();
    a.m.releaseResident();
    a.opt.releaseResident();
  });

  it('withResidentTraining gives the memory back when the loop throws (a cancelled run) as when it returns', () => {
    setMatmulThreads(2);
    const m = new Transformer(cfg, { seed: 13 });
    const params = m.parameters();
    const opt = new AdamW(params, { weightDecay: 0.01 });
    // what other tests' models still hold is left out: this model's own share is counted from here
    const before = w!.residentBytes;
    let during = 0;
    const step = (s: number) => {
      m.training = true;
      zeroGrad(params);
      m.lmForward(tokens(4, 16, 90 + s), 4, 16, tokens(4, 16, 95 + s));
      m.lmBackward();
      opt.step(1e-2);
    };
    expect(() =>
      withResidentTraining(m, opt, () => {
        step(0);
        expect(params.every((p) => isMatmulResident(p.data))).toBe(true);
        during = w!.residentBytes;
        throw new Error('cancelled');
      }),
    ).toThrow('cancelled');
    expect(params.some((p) => isMatmulResident(p.data) || isMatmulResident(p.grad))).toBe(false);
    // what stays is the feed-forward gradient scratch all models share, not this model's parameters or moments
    const after = w!.residentBytes;
    expect(after - before).toBeLessThan((during - before) / 4);
    // and a loop that returns hands back its value after the same release
    expect(withResidentTraining(m, opt, () => (step(1), 7))).toBe(7);
    expect(params.some((p) => isMatmulResident(p.data) || isMatmulResident(p.grad))).toBe(false);
    expect(w!.residentBytes).toBe(after);
  });

  it('freeResident takes back only whole arrays allocResident handed out, once; the space comes back zeroed', () => {
    const e = new WasmGemm();
    const x = e.allocResident(100)!;
    const y = e.allocResident(50)!;
    x.fill(3);
    expect(e.freeResident(x.subarray(0, 10))).toBe(false);
    expect(e.freeResident(new Float32Array(100))).toBe(false);
    expect(e.freeResident(x)).toBe(true);
    expect(e.freeResident(x)).toBe(false);
    expect(e.residentBytes).toBe(256);
    const z = e.allocResident(40)!; // first fit: in x's old space
    expect(z.byteOffset).toBe(x.byteOffset);
    expect(z.every((v) => v === 0)).toBe(true);
    const z2 = e.allocResident(20)!; // the rest of that block
    expect(z2.byteOffset).toBe(x.byteOffset + 192);
    expect(e.allocResident(100)!.byteOffset).toBeGreaterThan(y.byteOffset);
    // neighbours merge, and free space at the top lowers it
    const e2 = new WasmGemm();
    const [p, q, r] = [e2.allocResident(16)!, e2.allocResident(16)!, e2.allocResident(16)!];
    e2.freeResident(p);
    e2.freeResident(q); // p and q merge into one 128-byte block
    expect(e2.allocResident(32)!.byteOffset).toBe(p.byteOffset);
    const top = e2.allocResident(16)!;
    expect(top.byteOffset).toBe(r.byteOffset + 64);
    e2.freeResident(top);
    expect(e2.allocResident(16)!.byteOffset).toBe(top.byteOffset); // the top came down and went up again
    expect(e2.residentBytes).toBe(4 * 64);
  });

  it('inference (training off) allocates nothing resident', () => {
    const m = new Transformer(cfg, { seed: 4 });
    const before = w!.residentBytes;
    m.lmForward(tokens(2, 8, 1), 2, 8);
    m.generate([1, 2, 3], 4, { cache: false });
    expect(w!.residentBytes).toBe(before);
  });
});
