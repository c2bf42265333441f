import { describe, expect, it } from 'vitest';
import {
  attentionBackward,
  attentionForward,
  ropePermuteBackward,
  ropePermuteForward,
  ropeTables,
} from '../../../core/nn/attention';
import * as L from '../../../core/nn/layers';
import {
  jsDivBackward,
  jsDivForward,
  klDivBackward,
  klDivForward,
  mseBackward,
  mseForward,
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from '../../../core/nn/losses';
import { Rng } from '../../../core/util/rng';
import { dot, gradCheck, randArr } from './gradcheck';

const TOL = 1e-6;

/** Checks a layer y = f(inputs) through the scalar loss ⟨w, y⟩ with fixed random w. */
function checkLayer(
  n: number,
  inputs: Float64Array[],
  fwd: (out: Float64Array) => void,
  bwd: (dout: Float64Array, grads: Float64Array[]) => void,
) {
  const w = randArr(n, 99);
  const out = new Float64Array(n);
  const grads = inputs.map((x) => new Float64Array(x.length));
  bwd(w, grads);
  const r = gradCheck(
    inputs.map((x, i) => [x, grads[i]]),
    () => {
      fwd(out);
      return dot(out, w);
    },
  );
  expect(r.maxRel, r.at).toBeLessThan(TOL);
}

describe('layer gradients against central differences (f64)', () => {
  const N = 5;
  const C = 6;
  const OC = 4;

  it('linear with bias (input, weight, bias)', () => {
    const x = randArr(N * C, 1);
    const W = randArr(OC * C, 2);
    const b = randArr(OC, 3);
    const fwd = (o: Float64Array) => L.linearForward(o, x, W, b, N, C, OC);
    checkLayer(N * OC, [x, W, b], fwd, (d, [dx, dW, db]) => {
      fwd(new Float64Array(N * OC));
      L.linearBackward(dx, dW, db, d, x, W, N, C, OC);
    });
  });

  it('embedding and learned positions', () => {
    const V = 7;
    const B = 2;
    const T = 3;
    const tokens = Int32Array.of(1, 4, 4, 0, 6, 1);
    const table = randArr(V * C, 4);
    const wpe = randArr(T * C, 5);
    const fwd = (o: Float64Array) => {
      L.embeddingForward(o, tokens, table, B * T, C, V);
      L.positionForward(o, wpe, B, T, C);
    };
    checkLayer(B * T * C, [table, wpe], fwd, (d, [dt, dp]) => {
      L.embeddingBackward(dt, d, tokens, B * T, C);
      L.positionBackward(dp, d, B, T, C);
    });
    expect(() => L.embeddingForward(new Float64Array(C), Int32Array.of(V), table, 1, C, V)).toThrow(
      /tokens\[0\]/,
    );
  });

  it('layernorm (input, weight, bias)', () => {
    const x = randArr(N * C, 6);
    const w = randArr(C, 7);
    const b = randArr(C, 8);
    const mean = new Float64Array(N);
    const rstd = new Float64Array(N);
    const fwd = (o: Float64Array) => L.layernormForward(o, mean, rstd, x, w, b, N, C);
    checkLayer(N * C, [x, w, b], fwd, (d, [dx, dw, db]) => {
      fwd(new Float64Array(N * C));
      L.layernormBackward(dx, dw, db, d, x, w, mean, rstd, N, C);
    });
  });

  it('rmsnorm (input, weight) and its analytic value', () => {
    const x = randArr(N * C, 9);
    const w = randArr(C, 10);
    const rstd = new Float64Array(N);
    const fwd = (o: Float64Array) => L.rmsnormForward(o, rstd, x, w, N, C);
    checkLayer(N * C, [x, w], fwd, (d, [dx, dw]) => {
      fwd(new Float64Array(N * C));
      L.rmsnormBackward(dx, dw, d, x, w, rstd, N, C);
    });
    const o = new Float64Array(2);
    L.rmsnormForward(o, new Float64Array(1), Float64Array.of(3, 4), Float64Array.of(1, 1), 1, 2, 0);
    expect(o[0]).toBeCloseTo(3 / Math.sqrt(12.5), 12);
  });

  it('gelu, silu, swiglu', () => {
    const n = 20;
    const x = randArr(n, 11).map((v) => 3 * v);
    const u = randArr(n, 12);
    checkLayer(
      n,
      [x],
      (o) => L.geluForward(o, x, n),
      (d, [dx]) => L.geluBackward(dx, d, x, n),
    );
    checkLayer(
      n,
      [x],
      (o) => L.siluForward(o, x, n),
      (d, [dx]) => L.siluBackward(dx, d, x, n),
    );
    checkLayer(
      n,
      [x, u],
      (o) => L.swigluForward(o, x, u, n),
      (d, [dx, du]) => L.swigluBackward(dx, du, d, x, u, n),
    );
    const o = new Float64Array(1);
    L.geluForward(o, Float64Array.of(1), 1);
    expect(o[0]).toBeCloseTo(0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715)), 14);
  });

  it('dropout: seeded mask, inverted scaling, gradient through the mask', () => {
    const n = 4000;
    const x = new Float64Array(n).fill(1);
    const o1 = new Float64Array(n);
    const m1 = new Float64Array(n);
    L.dropoutForward(o1, m1, x, n, 0.25, new Rng(3));
    const o2 = new Float64Array(n);
    L.dropoutForward(o2, new Float64Array(n), x, n, 0.25, new Rng(3));
    expect(Array.from(o2)).toEqual(Array.from(o1));
    const zeros = o1.filter((v) => v === 0).length / n;
    expect(Math.abs(zeros - 0.25)).toBeLessThan(0.03);
    expect(o1.find((v) => v !== 0)).toBeCloseTo(1 / 0.75, 12);
    const dx = new Float64Array(n);
    L.dropoutBackward(dx, x, m1, n);
    expect(Array.from(dx)).toEqual(Array.from(m1));
  });
});

describe('attention', () => {
  const B = 2;
  const T = 5;
  const hd = 4;

  function setup(NH: number, NKV: number, rope: boolean) {
    const q = randArr(B * T * NH * hd, 20);
    const k = randArr(B * T * NKV * hd, 21);
    const v = randArr(B * T * NKV * hd, 22);
    const tabs = rope ? ropeTables(T, hd, 10000) : { cos: null, sin: null };
    const qh = new Float64Array(q.length);
    const kh = new Float64Array(k.length);
    const vh = new Float64Array(v.length);
    const att = new Float64Array(B * NH * T * T);
    const yh = new Float64Array(q.length);
    const fwd = (y: Float64Array) => {
      ropePermuteForward(qh, q, tabs.cos, tabs.sin, B, T, NH, hd);
      ropePermuteForward(kh, k, tabs.cos, tabs.sin, B, T, NKV, hd);
      ropePermuteForward(vh, v, null, null, B, T, NKV, hd);
      attentionForward(y, att, yh, qh, kh, vh, B, T, NH, NKV, hd);
    };
    const bwd = (dy: Float64Array, [dq, dk, dv]: Float64Array[]) => {
      fwd(new Float64Array(q.length));
      const dqh = new Float64Array(q.length);
      const dkh = new Float64Array(k.length);
      const dvh = new Float64Array(v.length);
      attentionBackward(
        dqh,
        dkh,
        dvh,
        new Float64Array(q.length),
        new Float64Array(T * T),
        dy,
        att,
        qh,
        kh,
        vh,
        B,
        T,
        NH,
        NKV,
        hd,
      );
      ropePermuteBackward(dq, dqh, tabs.cos, tabs.sin, B, T, NH, hd);
      ropePermuteBackward(dk, dkh, tabs.cos, tabs.sin, B, T, NKV, hd);
      ropePermuteBackward(dv, dvh, null, null, B, T, NKV, hd);
    };
    return { q, k, v, fwd, bwd, att, n: q.length };
  }

  for (const [NH, NKV, rope] of [
    [2, 2, false],
    [2, 2, true],
    [4, 2, true],
    [4, 1, true],
  ] as const) {
    it(`gradients: ${NH} query heads, ${NKV} kv heads, rope ${rope}`, () => {
      const s = setup(NH, NKV, rope);
      checkLayer(s.n, [s.q, s.k, s.v], s.fwd, s.bwd);
    });
  }

  it('is causal: weights above the diagonal are 0, rows sum to 1, a future key does not change the past', () => {
    const s = setup(4, 2, true);
    const y1 = new Float64Array(s.n);
    s.fwd(y1);
    for (let r = 0; r < B * 4 * T; r++) {
      const t = r % T;
      let sum = 0;
      for (let u = 0; u < T; u++) {
        sum += s.att[r * T + u];
        if (u > t) expect(s.att[r * T + u]).toBe(0);
      }
      expect(sum).toBeCloseTo(1, 12);
    }
    // perturb key and value at the last position of batch 0: outputs at earlier positions stay the same
    for (let i = 0; i < 2 * hd; i++) {
      s.k[(0 * T + T - 1) * 2 * hd + i] += 1;
      s.v[(0 * T + T - 1) * 2 * hd + i] += 1;
    }
    const y2 = new Float64Array(s.n);
    s.fwd(y2);
    const row = 4 * hd;
    for (let t = 0; t < T - 1; t++)
      for (let i = 0; i < row; i++) expect(y2[t * row + i]).toBe(y1[t * row + i]);
    expect(y2[(T - 1) * row]).not.toBe(y1[(T - 1) * row]);
  });

  it('rope rotates pairs (i, i + hd/2) by pos·θ^(−2i/hd) and preserves norms', () => {
    const hd2 = 4;
    const { cos, sin } = ropeTables(3, hd2, 100);
    const x = Float64Array.of(1, 0, 0, 1); // pairs (x0, x2) = (1, 0) and (x1, x3) = (0, 1)
    const out = new Float64Array(4);
    const inp = new Float64Array(3 * 4);
    inp.set(x, 2 * 4); // position 2
    const outAll = new Float64Array(12);
    ropePermuteForward(outAll, inp, cos, sin, 1, 3, 1, hd2);
    out.set(outAll.subarray(8, 12));
    const a0 = 2; // pos 2, θ^0
    const a1 = 2 * Math.pow(100, -0.5);
    expect(out[0]).toBeCloseTo(Math.cos(a0), 12);
    expect(out[2]).toBeCloseTo(Math.sin(a0), 12);
    expect(out[1]).toBeCloseTo(-Math.sin(a1), 12);
    expect(out[3]).toBeCloseTo(Math.cos(a1), 12);
  });
});

describe('losses', () => {
  const N = 4;
  const V = 5;

  it('cross-entropy: value, ignore index, gradient', () => {
    const logits = randArr(N * V, 30).map((v) => 2 * v);
    const targets = Int32Array.of(0, -100, 4, 2);
    const probs = new Float64Array(N * V);
    const { loss, count } = softmaxCrossEntropyForward(probs, logits, targets, N, V);
    expect(count).toBe(3);
    let ref = 0;
    for (const n of [0, 2, 3]) {
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(logits[n * V + v]);
      ref += -(logits[n * V + targets[n]] - Math.log(z));
    }
    expect(loss).toBeCloseTo(ref / 3, 12);
    const d = new Float64Array(N * V);
    softmaxCrossEntropyBackward(d, probs, targets, N, V, count);
    const r = gradCheck([[logits, d]], () => softmaxCrossEntropyForward(probs, logits, targets, N, V).loss);
    expect(r.maxRel, r.at).toBeLessThan(TOL);
    for (let v = 0; v < V; v++) expect(d[V + v]).toBe(0);
    expect(() => softmaxCrossEntropyForward(probs, logits, Int32Array.of(0, 9, 0, 0), N, V)).toThrow(
      /targets\[1\]/,
    );
  });

  for (const T of [1, 2.5]) {
    it(`KL and JS at temperature ${T}: values and gradients for both arguments`, () => {
      const p = randArr(N * V, 31).map((v) => 3 * v);
      const q = randArr(N * V, 32).map((v) => 3 * v);
      for (const [fwd, bwd] of [
        [klDivForward, klDivBackward],
        [jsDivForward, jsDivBackward],
      ] as const) {
        const dp = new Float64Array(N * V);
        const dq = new Float64Array(N * V);
        bwd(dp, dq, p, q, N, V, T);
        const r = gradCheck(
          [
            [p, dp],
            [q, dq],
          ],
          () => fwd(p, q, N, V, T),
        );
        expect(r.maxRel, r.at).toBeLessThan(TOL);
        expect(fwd(p, p, N, V, T)).toBeCloseTo(0, 14);
      }
      expect(jsDivForward(p, q, N, V, T)).toBeCloseTo(jsDivForward(q, p, N, V, T), 14);
      expect(jsDivForward(p, q, N, V, T)).toBeLessThanOrEqual(Math.log(2));
    });
  }

  it('KL of two-point distributions matches the closed form', () => {
    // p = (0.8, 0.2), q = (0.5, 0.5) as logits
    const pl = Float64Array.of(Math.log(0.8), Math.log(0.2));
    const ql = Float64Array.of(0, 0);
    expect(klDivForward(pl, ql, 1, 2)).toBeCloseTo(0.8 * Math.log(1.6) + 0.2 * Math.log(0.4), 12);
  });

  it('MSE value and gradient', () => {
    const a = randArr(12, 33);
    const b = randArr(12, 34);
    const da = new Float64Array(12);
    const db = new Float64Array(12);
    mseBackward(da, db, a, b, 12);
    const r = gradCheck(
      [
        [a, da],
        [b, db],
      ],
      () => mseForward(a, b, 12),
    );
    expect(r.maxRel, r.at).toBeLessThan(TOL);
    expect(mseForward(Float64Array.of(1, 2), Float64Array.of(0, 0), 2)).toBe(2.5);
  });
});
