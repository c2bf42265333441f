// The WebAssembly SIMD (f32x4) matmul, generated as bytes by core/nn/wasm/asm.ts. Its entry point:
//   gemm(a, b, c, N, K, acc, aRs, aKs, bCs, bKs, m0, m1, scratch)
// computes, for output rows i in [m0, m1) and all columns j < N,
//   c[i*N + j] (+)= Σ_k a[i*aRs + k*aKs] · b[j*bCs + k*bKs]
// with a, b, c, scratch byte addresses in the imported memory and strides in elements. It packs KC×NC blocks of
// B into NR-wide panels and MR×KC panels of A (zero-padded), then runs an MR×NR register-blocked microkernel
// (MR·NR/4 f32x4 accumulators) over every panel pair. Each thread passes its own scratch region. Beside it:
// batched (attention's per-head products), gemv (one-row decoding) and two elementwise kernels for rows.ts on
// resident arrays, exps (the softmaxes' exponentials) and swiglu (SwiGLU's forward) over one f32x4 expf, and
// swigluBack (its backward), and adam (the optimizer's update on resident parameters and moments).
import { assemble, F32, Fn, I32, V128 } from './asm';

export interface GemmGeometry {
  /** Rows of a microkernel tile. */
  mr: number;
  /** Columns of a microkernel tile, a multiple of 4 (one f32x4 per 4 columns). */
  nr: number;
  /** Depth of a packed block. */
  kc: number;
  /** Columns of B per packed block, a multiple of nr. */
  nc: number;
  /** k steps per microkernel loop iteration. */
  unroll: number;
}

export const DEFAULT_GEOMETRY: GemmGeometry = { mr: 4, nr: 8, kc: 256, nc: 256, unroll: 1 };

/** Bytes of scratch one thread needs: the packed B block, the packed A panel and one spill tile. */
export function scratchBytes(g: GemmGeometry): number {
  const floats = g.kc * g.nc + g.kc * g.mr + g.mr * g.nr;
  return Math.ceil((floats * 4) / 64) * 64;
}

function checkGeometry(g: GemmGeometry): void {
  for (const [k, v] of Object.entries(g))
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`geometry.${k}: must be a positive integer, got ${v}`);
  if (g.nr % 4 !== 0) throw new Error(`geometry.nr: must be a multiple of 4, got ${g.nr}`);
  if (g.nc % g.nr !== 0) throw new Error(`geometry.nc: must be a multiple of nr ${g.nr}, got ${g.nc}`);
}

// kernel(ap, bp, c, ldc, kl, first, mr, nr, tmp): one MR×NR tile over kl packed steps; with fma the
// multiply-add is one relaxed-SIMD f32x4.relaxed_madd (a fused vfmadd on x86 with FMA3, on Arm fmla)
function kernelFn(g: GemmGeometry, fma: boolean): Fn {
  const { mr: MR, nr: NR, unroll: UNROLL } = g;
  const NV = NR / 4;
  const f = new Fn('kernel', [I32, I32, I32, I32, I32, I32, I32, I32, I32]).named(
    'ap',
    'bp',
    'c',
    'ldc',
    'kl',
    'first',
    'mr',
    'nr',
    'tmp',
  );
  const [ap, bp, c, ldc, kl, first, mr, nr, tmp] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const acc: number[] = [];
  // acc_r_v: row r of the tile, columns 4v..4v+3
  for (let i = 0; i < MR * NV; i++) acc.push(f.local(V128, `acc_${Math.floor(i / NV)}_${i % NV}`));
  const bv: number[] = [];
  for (let j = 0; j < NV; j++) bv.push(f.local(V128, `b_${j}`));
  const av = f.local(V128, 'a_splat');
  const row = f.local(I32, 'row');
  const ii = f.local(I32, 'ii');
  const jj = f.local(I32, 'jj');
  const addr = f.local(I32, 'addr');
  const val = f.local(F32, 'val');
  for (const r of acc) f.v128Zero().set(r);
  // k loop: broadcast one A value per row, multiply by the NR-wide B row, add into the accumulators; UNROLL
  // steps per iteration address through memarg offsets, then a remainder loop takes the last kl mod UNROLL
  const step = (u: number) => {
    for (let j = 0; j < NV; j++)
      f.get(bp)
        .v128Load(4 * NR * u + 16 * j)
        .set(bv[j]);
    for (let i = 0; i < MR; i++) {
      f.get(ap)
        .v128Load32Splat(4 * MR * u + 4 * i)
        .set(av);
      for (let j = 0; j < NV; j++)
        if (fma)
          f.get(av)
            .get(bv[j])
            .get(acc[i * NV + j])
            .f32x4RelaxedMadd()
            .set(acc[i * NV + j]);
        else
          f.get(acc[i * NV + j])
            .get(av)
            .get(bv[j])
            .f32x4Mul()
            .f32x4Add()
            .set(acc[i * NV + j]);
    }
  };
  const advance = (u: number) => {
    f.get(ap)
      .i32(4 * MR * u)
      .add()
      .set(ap);
    f.get(bp)
      .i32(4 * NR * u)
      .add()
      .set(bp);
  };
  f.block().loop();
  f.get(kl).i32(UNROLL).ltS().brIf(1);
  for (let u = 0; u < UNROLL; u++) step(u);
  advance(UNROLL);
  f.get(kl).i32(UNROLL).sub().set(kl);
  f.br(0).end().end();
  f.block();
  f.get(kl).eqz().brIf(0);
  f.loop();
  step(0);
  advance(1);
  f.get(kl).i32(1).sub().tee(kl).brIf(0);
  f.end().end();
  // full tile: vector stores straight into C; edge tile: spill to tmp, then copy the valid mr×nr part
  f.get(mr).i32(MR).eq().get(nr).i32(NR).eq().and().if();
  f.get(c).set(row);
  f.get(first).if();
  for (let i = 0; i < MR; i++) {
    for (let j = 0; j < NV; j++)
      f.get(row)
        .get(acc[i * NV + j])
        .v128Store(16 * j);
    if (i < MR - 1) f.get(row).get(ldc).i32(2).shl().add().set(row);
  }
  f.else();
  for (let i = 0; i < MR; i++) {
    for (let j = 0; j < NV; j++)
      f.get(row)
        .get(row)
        .v128Load(16 * j)
        .get(acc[i * NV + j])
        .f32x4Add()
        .v128Store(16 * j);
    if (i < MR - 1) f.get(row).get(ldc).i32(2).shl().add().set(row);
  }
  f.end();
  f.else();
  for (let i = 0; i < MR; i++)
    for (let j = 0; j < NV; j++)
      f.get(tmp)
        .get(acc[i * NV + j])
        .v128Store((i * NR + 4 * j) * 4);
  f.for(
    ii,
    () => f.i32(0),
    () => f.get(mr),
    1,
    () => {
      f.for(
        jj,
        () => f.i32(0),
        () => f.get(nr),
        1,
        () => {
          f.get(c).get(ii).get(ldc).mul().get(jj).add().i32(2).shl().add().set(addr);
          f.get(tmp).get(ii).i32(NR).mul().get(jj).add().i32(2).shl().add().f32Load().set(val);
          f.get(first).eqz().if();
          f.get(addr).f32Load().get(val).f32Add().set(val);
          f.end();
          f.get(addr).get(val).f32Store();
        },
      );
    },
  );
  f.end();
  return f;
}

// packB(dst, b, jc, kc, kl, N, bCs, bKs, npan): panels of NR columns, k-major inside a panel, zero past N
function packBFn(g: GemmGeometry): Fn {
  const { nr: NR } = g;
  const NV = NR / 4;
  const f = new Fn('packB', [I32, I32, I32, I32, I32, I32, I32, I32, I32]).named(
    'dst',
    'b',
    'jc',
    'kc',
    'kl',
    'N',
    'bCs',
    'bKs',
    'npan',
  );
  const [dst, b, jc, kc, kl, N, bCs, bKs, npan] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const p = f.local(I32, 'p');
  const jj = f.local(I32, 'jj');
  const j = f.local(I32, 'j');
  const d = f.local(I32, 'd');
  const src = f.local(I32, 'src');
  const step = f.local(I32, 'step');
  const kk = f.local(I32, 'kk');
  f.get(bKs).i32(2).shl().set(step);
  f.for(
    p,
    () => f.i32(0),
    () => f.get(npan),
    1,
    () => {
      f.get(jc).get(p).i32(NR).mul().add().set(j);
      // contiguous columns (b is (K, N) row-major) and a full panel: copy NR floats per k as vectors
      f.get(bCs).i32(1).eq().get(j).i32(NR).add().get(N).i32(1).add().ltS().and().if();
      f.get(dst)
        .get(p)
        .get(kl)
        .mul()
        .i32(NR * 4)
        .mul()
        .add()
        .set(d);
      f.get(b).get(j).get(kc).get(bKs).mul().add().i32(2).shl().add().set(src);
      f.for(
        kk,
        () => f.i32(0),
        () => f.get(kl),
        1,
        () => {
          for (let v = 0; v < NV; v++)
            f.get(d)
              .get(src)
              .v128Load(16 * v)
              .v128Store(16 * v);
          f.get(d)
            .i32(NR * 4)
            .add()
            .set(d);
          f.get(src).get(step).add().set(src);
        },
      );
      f.else();
      f.for(
        jj,
        () => f.i32(0),
        () => f.i32(NR),
        1,
        () => {
          f.get(dst).get(p).get(kl).mul().i32(NR).mul().get(jj).add().i32(2).shl().add().set(d);
          f.get(j).get(jj).add().get(N).ltS().if();
          f.get(b)
            .get(j)
            .get(jj)
            .add()
            .get(bCs)
            .mul()
            .get(kc)
            .get(bKs)
            .mul()
            .add()
            .i32(2)
            .shl()
            .add()
            .set(src);
          f.for(
            kk,
            () => f.i32(0),
            () => f.get(kl),
            1,
            () => {
              f.get(d).get(src).f32Load().f32Store();
              f.get(d)
                .i32(NR * 4)
                .add()
                .set(d);
              f.get(src).get(step).add().set(src);
            },
          );
          f.else();
          f.for(
            kk,
            () => f.i32(0),
            () => f.get(kl),
            1,
            () => {
              f.get(d).f32Const0().f32Store();
              f.get(d)
                .i32(NR * 4)
                .add()
                .set(d);
            },
          );
          f.end();
        },
      );
      f.end();
    },
  );
  return f;
}

// packA(dst, a, i, mr, kc, kl, aRs, aKs): an MR-row panel, k-major, zero rows past mr
function packAFn(g: GemmGeometry): Fn {
  const { mr: MR } = g;
  const f = new Fn('packA', [I32, I32, I32, I32, I32, I32, I32, I32]).named(
    'dst',
    'a',
    'i',
    'mr',
    'kc',
    'kl',
    'aRs',
    'aKs',
  );
  const [dst, a, i, mr, kc, kl, aRs, aKs] = [0, 1, 2, 3, 4, 5, 6, 7];
  const ii = f.local(I32, 'ii');
  const d = f.local(I32, 'd');
  const src = f.local(I32, 'src');
  const step = f.local(I32, 'step');
  const kk = f.local(I32, 'kk');
  f.get(aKs).i32(2).shl().set(step);
  const scalar = () =>
    f.for(
      ii,
      () => f.i32(0),
      () => f.i32(MR),
      1,
      () => {
        f.get(dst).get(ii).i32(2).shl().add().set(d);
        f.get(ii).get(mr).ltS().if();
        f.get(a).get(i).get(ii).add().get(aRs).mul().get(kc).get(aKs).mul().add().i32(2).shl().add().set(src);
        f.for(
          kk,
          () => f.i32(0),
          () => f.get(kl),
          1,
          () => {
            f.get(d).get(src).f32Load().f32Store();
            f.get(d)
              .i32(MR * 4)
              .add()
              .set(d);
            f.get(src).get(step).add().set(src);
          },
        );
        f.else();
        f.for(
          kk,
          () => f.i32(0),
          () => f.get(kl),
          1,
          () => {
            f.get(d).f32Const0().f32Store();
            f.get(d)
              .i32(MR * 4)
              .add()
              .set(d);
          },
        );
        f.end();
      },
    );
  if (MR % 4 === 0) {
    // a is (K, M) row-major (the weight-gradient product) and the panel is full: MR floats per k as vectors
    f.get(aRs).i32(1).eq().get(mr).i32(MR).eq().and().if();
    f.get(dst).set(d);
    f.get(a).get(i).get(kc).get(aKs).mul().add().i32(2).shl().add().set(src);
    f.for(
      kk,
      () => f.i32(0),
      () => f.get(kl),
      1,
      () => {
        for (let v = 0; v < MR / 4; v++)
          f.get(d)
            .get(src)
            .v128Load(16 * v)
            .v128Store(16 * v);
        f.get(d)
          .i32(MR * 4)
          .add()
          .set(d);
        f.get(src).get(step).add().set(src);
      },
    );
    f.else();
    scalar();
    f.end();
  } else scalar();
  return f;
}

// gemm(a, b, c, N, K, acc, aRs, aKs, bCs, bKs, m0, m1, scratch): the blocked driver (K ≥ 1)
function gemmFn(g: GemmGeometry, idx: { kernel: number; packA: number; packB: number }): Fn {
  const { mr: MR, nr: NR, kc: KC, nc: NC } = g;
  const f = new Fn('gemm', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]).named(
    ...['a', 'b', 'c', 'N', 'K', 'acc', 'aRs', 'aKs', 'bCs', 'bKs', 'm0', 'm1', 'scratch'],
  );
  const [a, b, c, N, K, acc, aRs, aKs, bCs, bKs, m0, m1, scratch] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const [jc, nc, npan, kc, kl, first, i, mr, p, col, nr, Ap, tmp] = [
    ...['jc', 'nc', 'npan', 'kc', 'kl', 'first', 'i', 'mr', 'p', 'col', 'nr', 'Ap', 'tmp'],
  ].map((name) => f.local(I32, name));
  const min = (x: () => void, y: () => void) => {
    x();
    y();
    x();
    y();
    f.ltS().select();
  };
  f.get(scratch)
    .i32(KC * NC * 4)
    .add()
    .set(Ap);
  f.get(Ap)
    .i32(KC * MR * 4)
    .add()
    .set(tmp);
  f.for(
    jc,
    () => f.i32(0),
    () => f.get(N),
    NC,
    () => {
      min(
        () => f.i32(NC),
        () => f.get(N).get(jc).sub(),
      );
      f.set(nc);
      f.get(nc)
        .i32(NR - 1)
        .add()
        .i32(NR)
        .divU()
        .set(npan); // ⌈nc / NR⌉ panels
      f.for(
        kc,
        () => f.i32(0),
        () => f.get(K),
        KC,
        () => {
          min(
            () => f.i32(KC),
            () => f.get(K).get(kc).sub(),
          );
          f.set(kl);
          f.get(kc).eqz().get(acc).eqz().and().set(first);
          f.get(scratch).get(b).get(jc).get(kc).get(kl).get(N).get(bCs).get(bKs).get(npan).call(idx.packB);
          f.for(
            i,
            () => f.get(m0),
            () => f.get(m1),
            MR,
            () => {
              min(
                () => f.i32(MR),
                () => f.get(m1).get(i).sub(),
              );
              f.set(mr);
              f.get(Ap).get(a).get(i).get(mr).get(kc).get(kl).get(aRs).get(aKs).call(idx.packA);
              f.for(
                p,
                () => f.i32(0),
                () => f.get(npan),
                1,
                () => {
                  f.get(jc).get(p).i32(NR).mul().add().set(col);
                  min(
                    () => f.i32(NR),
                    () => f.get(N).get(col).sub(),
                  );
                  f.set(nr);
                  f.get(Ap);
                  f.get(scratch)
                    .get(p)
                    .get(kl)
                    .mul()
                    .i32(NR * 4)
                    .mul()
                    .add();
                  f.get(c).get(i).get(N).mul().get(col).add().i32(2).shl().add();
                  f.get(N).get(kl).get(first).get(mr).get(nr).get(tmp).call(idx.kernel);
                },
              );
            },
          );
        },
      );
    },
  );
  return f;
}

// batched(a, b, c, N, K, acc, aRs, aKs, bCs, bKs, M, z0, z1, aBS, bBS, bDiv, cBS, cDiv, scratch): products
// z in [z0, z1) with operands at a + z·aBS, b + ⌊z/bDiv⌋·bBS, c + ⌊z/cDiv⌋·cBS (floats) — attention heads, where
// query heads of one group share a key/value head (bDiv) or add into its gradient (cDiv)
function batchedFn(gemmIndex: number): Fn {
  const names = ['a', 'b', 'c', 'N', 'K', 'acc', 'aRs', 'aKs', 'bCs', 'bKs', 'M', 'z0', 'z1'];
  names.push('aBS', 'bBS', 'bDiv', 'cBS', 'cDiv', 'scratch');
  const f = new Fn('batched', new Array<typeof I32>(19).fill(I32)).named(...names);
  const [a, b, c, N, K, acc, aRs, aKs, bCs, bKs, M, z0, z1, aBS, bBS, bDiv, cBS, cDiv, scratch] = Array.from(
    { length: 19 },
    (_, i) => i,
  );
  const z = f.local(I32, 'z');
  f.for(
    z,
    () => f.get(z0),
    () => f.get(z1),
    1,
    () => {
      f.get(a).get(z).get(aBS).mul().i32(2).shl().add();
      f.get(b).get(z).get(bDiv).divU().get(bBS).mul().i32(2).shl().add();
      f.get(c).get(z).get(cDiv).divU().get(cBS).mul().i32(2).shl().add();
      f.get(N).get(K).get(acc).get(aRs).get(aKs).get(bCs).get(bKs).i32(0).get(M).get(scratch).call(gemmIndex);
    },
  );
  return f;
}

/** The module's bytes for a geometry; its memory import is env.mem with the given page limits. */
/**
 * gemv(a, b, c, M, N, K, acc, scratch): c (M×N) (+)= a (M×K)·b (N×K)ᵀ with rows of a and b contiguous and K a
 * multiple of 4, read straight from b with no packing: one f32x4 dot product per output. Decoding's one-row
 * products use it (packing B costs as much as the whole product there); scratch holds one spilled vector.
 */
function gemvFn(fma: boolean): Fn {
  const f = new Fn('gemv', [I32, I32, I32, I32, I32, I32, I32, I32]).named(
    ...['a', 'b', 'c', 'M', 'N', 'K', 'acc', 'scratch'],
  );
  const [a, b, c, M, N, K, acc, scratch] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [i, j, k, pa, pb, pc] = ['i', 'j', 'k', 'pa', 'pb', 'pc'].map((name) => f.local(I32, name));
  const s = f.local(V128, 'dot');
  const sum = f.local(F32, 'sum');
  f.for(
    i,
    () => f.i32(0),
    () => f.get(M),
    1,
    () =>
      f.for(
        j,
        () => f.i32(0),
        () => f.get(N),
        1,
        () => {
          f.v128Zero().set(s);
          f.get(a).get(i).get(K).mul().i32(2).shl().add().set(pa);
          f.get(b).get(j).get(K).mul().i32(2).shl().add().set(pb);
          f.for(
            k,
            () => f.i32(0),
            () => f.get(K),
            4,
            () => {
              if (fma) f.get(pa).v128Load(0).get(pb).v128Load(0).get(s).f32x4RelaxedMadd().set(s);
              else f.get(s).get(pa).v128Load(0).get(pb).v128Load(0).f32x4Mul().f32x4Add().set(s);
              f.get(pa).i32(16).add().set(pa);
              f.get(pb).i32(16).add().set(pb);
            },
          );
          // lanes summed through the scratch slot ((s0 + s1) + (s2 + s3)), plus c when accumulating
          f.get(scratch).get(s).v128Store(0);
          f.get(c).get(i).get(N).mul().get(j).add().i32(2).shl().add().set(pc);
          f.get(scratch).f32Load(0).get(scratch).f32Load(4).f32Add();
          f.get(scratch).f32Load(8).get(scratch).f32Load(12).f32Add();
          f.f32Add().set(sum);
          f.get(acc).if();
          f.get(sum).get(pc).f32Load(0).f32Add().set(sum);
          f.end();
          f.get(pc).get(sum).f32Store(0);
        },
      ),
  );
  return f;
}

const splat = (v: number): [number, number, number, number] => [v, v, v, v];

/**
 * Leaves e^x of the f32x4 in local x on the stack (x is clamped in place to [−87.34, 88.37], so 2^k below stays
 * a normal f32 and nothing overflows): Cephes' expf, 2^k · p(r) with
 * k = round(x·log₂e), r = x − k·ln 2 in two parts and p a degree-7 polynomial; relative error ≲ 2 f32 ulp,
 * e^−∞ = 1.2e−38 (clamped, not 0), NaN stays NaN. k and r are scratch locals.
 */
function emitExp(f: Fn, x: number, k: number, r: number): void {
  f.get(x).v128ConstF32(splat(-87.33654)).f32x4Max().v128ConstF32(splat(88.37)).f32x4Min().set(x);
  f.get(x).v128ConstF32(splat(Math.LOG2E)).f32x4Mul().f32x4Nearest().set(k);
  f.get(x).get(k).v128ConstF32(splat(0.693359375)).f32x4Mul().f32x4Sub();
  f.get(k).v128ConstF32(splat(-2.1219444e-4)).f32x4Mul().f32x4Sub().set(r);
  f.v128ConstF32(splat(1.98756915e-4));
  for (const c of [1.39819995e-3, 8.33345191e-3, 4.16657959e-2, 1.66666655e-1, 5.00000012e-1])
    f.get(r).f32x4Mul().v128ConstF32(splat(c)).f32x4Add();
  f.get(r).f32x4Mul().get(r).f32x4Mul().get(r).f32x4Add().v128ConstF32(splat(1)).f32x4Add();
  // × 2^k: (k + 127) << 23 read as f32 bits
  f.get(k).i32x4TruncSatF32x4S().v128ConstI32(splat(127)).i32x4Add().i32(23).i32x4Shl().f32x4Mul();
}

/**
 * Runs `lanes` (which maps the f32x4 in local v to its result on the stack, using v and t as scratch) over n floats
 * from byte address src, storing to dst: four at a time, then the last n mod 4 one by one (each splatted into a
 * vector, so they take the same expression).
 */
function elementwise(
  f: Fn,
  n: number,
  load: (i: number, splat: boolean) => void,
  store: (i: number, lane: boolean) => void,
): void {
  const i = f.local(I32, 'i');
  const n4 = f.local(I32, 'n4');
  f.get(n).i32(-4).and().set(n4);
  f.for(
    i,
    () => f.i32(0),
    () => f.get(n4),
    4,
    () => {
      load(i, false);
      store(i, false);
    },
  );
  f.for(
    i,
    () => f.get(n4),
    () => f.get(n),
    1,
    () => {
      load(i, true);
      store(i, true);
    },
  );
}

// exps(dst, src, n, shift): dst[i] = e^(src[i] − shift) for i < n (byte addresses; dst may be src) — the
// exponentials of the softmaxes (cross-entropy rows, causal attention rows)
function expsFn(): Fn {
  const f = new Fn('exps', [I32, I32, I32, F32]).named('dst', 'src', 'n', 'shift');
  const [dst, src, n, shift] = [0, 1, 2, 3];
  const [sv, x, k, r] = ['shift_v', 'x', 'k', 'r'].map((name) => f.local(V128, name));
  f.get(shift).f32x4Splat().set(sv);
  elementwise(
    f,
    n,
    (i, one) => {
      f.get(src).get(i).i32(2).shl().add();
      if (one) f.v128Load32Splat(0);
      else f.v128Load(0);
      f.get(sv).f32x4Sub().set(x);
    },
    (i, one) => {
      f.get(dst).get(i).i32(2).shl().add();
      emitExp(f, x, k, r);
      if (one) f.f32x4ExtractLane(0).f32Store(0);
      else f.v128Store(0);
    },
  );
  return f;
}

// swiglu(out, gate, up, sig, n): sig[i] = σ(gate[i]) = 1/(1 + e^−gate[i]), out[i] = gate[i]·sig[i]·up[i]
function swigluFn(): Fn {
  const f = new Fn('swiglu', [I32, I32, I32, I32, I32]).named('out', 'gate', 'up', 'sig', 'n');
  const [out, gate, up, sig, n] = [0, 1, 2, 3, 4];
  const [g, x, k, r, sg] = ['g', 'x', 'k', 'r', 'sg'].map((name) => f.local(V128, name));
  const at = (base: number, i: number) => f.get(base).get(i).i32(2).shl().add();
  const ld = (one: boolean) => (one ? f.v128Load32Splat(0) : f.v128Load(0));
  elementwise(
    f,
    n,
    (i, one) => {
      at(gate, i);
      ld(one).set(g);
      f.v128Zero().get(g).f32x4Sub().set(x);
    },
    (i, one) => {
      f.v128ConstF32(splat(1));
      f.v128ConstF32(splat(1));
      emitExp(f, x, k, r);
      f.f32x4Add().f32x4Div().set(sg);
      at(sig, i).get(sg);
      if (one) f.f32x4ExtractLane(0).f32Store(0);
      else f.v128Store(0);
      at(out, i).get(g).get(sg).f32x4Mul();
      at(up, i);
      ld(one).f32x4Mul();
      if (one) f.f32x4ExtractLane(0).f32Store(0);
      else f.v128Store(0);
    },
  );
  return f;
}

// swigluBack(dgate, dup, dout, gate, up, sig, n): dgate[i] += dout·up·σ·(1 + gate·(1 − σ)), dup[i] += dout·gate·σ
// with σ = sig[i] as swiglu kept it (the products in that order, in f32)
function swigluBackFn(): Fn {
  const names = ['dgate', 'dup', 'dout', 'gate', 'up', 'sig', 'n'];
  const f = new Fn('swigluBack', new Array<typeof I32>(7).fill(I32)).named(...names);
  const [dgate, dup, dout, gate, up, sig, n] = [0, 1, 2, 3, 4, 5, 6];
  const [d, g, sg] = ['d', 'g', 'sg'].map((name) => f.local(V128, name));
  const at = (base: number, i: number) => f.get(base).get(i).i32(2).shl().add();
  const ld = (one: boolean) => (one ? f.v128Load32Splat(0) : f.v128Load(0));
  const st = (one: boolean) => (one ? f.f32x4ExtractLane(0).f32Store(0) : f.v128Store(0));
  elementwise(
    f,
    n,
    (i, one) => {
      for (const [base, local] of [
        [dout, d],
        [gate, g],
        [sig, sg],
      ]) {
        at(base, i);
        ld(one).set(local);
      }
    },
    (i, one) => {
      // dgate += ((d·up)·σ)·(1 + g·(1 − σ))
      at(dgate, i);
      at(dgate, i);
      ld(one);
      f.get(d);
      at(up, i);
      ld(one).f32x4Mul().get(sg).f32x4Mul();
      f.v128ConstF32(splat(1)).get(g).v128ConstF32(splat(1)).get(sg).f32x4Sub().f32x4Mul().f32x4Add();
      f.f32x4Mul().f32x4Add();
      st(one);
      // dup += (d·g)·σ
      at(dup, i);
      at(dup, i);
      ld(one).get(d).get(g).f32x4Mul().get(sg).f32x4Mul().f32x4Add();
      st(one);
    },
  );
  return f;
}

// adam(data, grad, m, v, n, l2, b1, c1m, b2, c2m, decay, step, ic2, eps): Adam/AdamW over n elements in f32 —
// g = grad + l2·w, m = b1·m + c1m·g, v = b2·v + c2m·g·g, w = w·decay − step·m / (√(v·ic2) + eps), where rows.ts's
// adamK computes the same expression in f64 (c1m = 1 − β1, c2m = 1 − β2, step = lr / (1 − β1ᵗ), ic2 = 1 / (1 − β2ᵗ))
function adamFn(): Fn {
  const names = [
    'data',
    'grad',
    'm',
    'v',
    'n',
    'l2',
    'b1',
    'c1m',
    'b2',
    'c2m',
    'decay',
    'step',
    'ic2',
    'eps',
  ];
  const f = new Fn('adam', [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32]).named(
    ...names,
  );
  const [data, grad, m, v, n] = [0, 1, 2, 3, 4];
  const sc = [5, 6, 7, 8, 9, 10, 11, 12, 13].map((p) => {
    const l = f.local(V128, `${names[p]}_v`);
    f.get(p).f32x4Splat().set(l);
    return l;
  });
  const [l2, b1, c1m, b2, c2m, decay, step, ic2, eps] = sc;
  const [wv, g, mi, vi] = ['w', 'g', 'mi', 'vi'].map((name) => f.local(V128, name));
  const at = (base: number, i: number) => f.get(base).get(i).i32(2).shl().add();
  const ld = (one: boolean) => (one ? f.v128Load32Splat(0) : f.v128Load(0));
  const st = (one: boolean) => (one ? f.f32x4ExtractLane(0).f32Store(0) : f.v128Store(0));
  elementwise(
    f,
    n,
    (i, one) => {
      at(data, i);
      ld(one).set(wv);
      at(grad, i);
      ld(one).get(l2).get(wv).f32x4Mul().f32x4Add().set(g);
    },
    (i, one) => {
      f.get(b1);
      at(m, i);
      ld(one).f32x4Mul().get(c1m).get(g).f32x4Mul().f32x4Add().set(mi);
      f.get(b2);
      at(v, i);
      ld(one).f32x4Mul().get(c2m).get(g).f32x4Mul().get(g).f32x4Mul().f32x4Add().set(vi);
      at(m, i).get(mi);
      st(one);
      at(v, i).get(vi);
      st(one);
      at(data, i).get(wv).get(decay).f32x4Mul();
      f.get(step).get(mi).f32x4Mul().get(vi).get(ic2).f32x4Mul().f32x4Sqrt().get(eps).f32x4Add().f32x4Div();
      f.f32x4Sub();
      st(one);
    },
  );
  return f;
}

export function gemmModuleBytes(
  g: GemmGeometry,
  mem: { min: number; max: number; shared: boolean },
  opts: { fma?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  checkGeometry(g);
  const fns = [kernelFn(g, opts.fma ?? false), packAFn(g), packBFn(g)];
  fns.push(gemmFn(g, { kernel: 0, packA: 1, packB: 2 }));
  fns.push(batchedFn(3)); // calls gemm, function 3
  fns.push(gemvFn(opts.fma ?? false));
  fns.push(expsFn(), swigluFn(), swigluBackFn(), adamFn());
  return assemble(fns, mem, `gemm_mr${g.mr}_nr${g.nr}_kc${g.kc}_nc${g.nc}${opts.fma ? '_fma' : ''}`);
}
