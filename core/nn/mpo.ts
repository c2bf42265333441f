// Tensor-train / matrix-product-operator Linear: W (out, in) with out = ∏ o_k and in = ∏ i_k is the chain
//   W[(o_1…o_K), (i_1…i_K)] = G_1[:, o_1, i_1, :] · G_2[:, o_2, i_2, :] ··· G_K[:, o_K, i_K, :]
// with cores G_k of shape (r_{k-1}, o_k, i_k, r_k), r_0 = r_K = 1. Forward reconstructs the dense W from left
// partial products and runs one matmul; backward forms dW densely and contracts it with the left and right
// partial products into each core. That costs O(out·in·r²) per step beside the matmul, fine at these sizes.
import { ensure, type LinearLike } from './layers';
import { matmulAB, matmulABt, matmulAtB } from './matmul';
import { Rng } from '../util/rng';
import { NnError, Parameter, checkPositiveInt, type Arr, type Dtype } from './tensor';

export interface MpoOptions {
  /** Factorisation of the output dimension, e.g. [4, 8, 8] for 256. */
  outFactors: number[];
  /** Factorisation of the input dimension, same length as outFactors. */
  inFactors: number[];
  /** K−1 internal bond dimensions, or one number for all. */
  bond: number | number[];
  bias?: boolean;
  /** Zero-initialise the last core so W starts at 0 (useful as a residual branch). */
  zeroInitLast?: boolean;
  seed?: number;
  dtype?: Dtype;
}

export class MpoLinear implements LinearLike {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly cores: Parameter[]; // core k: (r_{k-1}, o_k, i_k, r_k)
  readonly bias: Parameter | null; // (out)
  readonly ranks: number[]; // r_0 … r_K
  private readonly dtype: Dtype;
  private W: Arr | null = null; // (out, in) reconstructed at forward
  private dW: Arr | null = null; // (out, in)
  private left: Float64Array[] = []; // left[k]: (∏o_<k, ∏i_<k, r_k) product of cores 0..k-1

  constructor(
    readonly name: string,
    opts: MpoOptions,
  ) {
    const K = opts.outFactors.length;
    if (K < 1 || opts.inFactors.length !== K)
      throw new NnError(`needs ${K} entries like outFactors, got ${opts.inFactors.length}`, 'mpo.inFactors');
    opts.outFactors.forEach((f, k) => checkPositiveInt(f, `mpo.outFactors[${k}]`));
    opts.inFactors.forEach((f, k) => checkPositiveInt(f, `mpo.inFactors[${k}]`));
    const bonds = typeof opts.bond === 'number' ? new Array<number>(K - 1).fill(opts.bond) : opts.bond;
    if (bonds.length !== K - 1) throw new NnError(`needs ${K - 1} entries, got ${bonds.length}`, 'mpo.bond');
    bonds.forEach((b, k) => checkPositiveInt(b, `mpo.bond[${k}]`));
    this.ranks = [1, ...bonds, 1];
    this.outFeatures = opts.outFactors.reduce((a, b) => a * b, 1);
    this.inFeatures = opts.inFactors.reduce((a, b) => a * b, 1);
    this.dtype = opts.dtype ?? 'f32';
    const rng = new Rng(opts.seed ?? 0);
    this.cores = opts.outFactors.map((o, k) => {
      const p = new Parameter(
        `${name}.cores.${k}`,
        [this.ranks[k], o, opts.inFactors[k], this.ranks[k + 1]],
        this.dtype,
      );
      // fan-in Kaiming per core, gain 2 only on the first, so the product has variance 2/in like a dense layer
      const std = Math.sqrt((k === 0 ? 2 : 1) / (opts.inFactors[k] * this.ranks[k]));
      if (!(opts.zeroInitLast && k === K - 1)) rng.fillNormal(p.data, std);
      return p;
    });
    this.bias = opts.bias ? new Parameter(`${name}.bias`, [this.outFeatures], this.dtype) : null;
  }

  parameters(): Parameter[] {
    return this.bias ? [...this.cores, this.bias] : [...this.cores];
  }

  /** Number of parameters against out·in for the dense layer. */
  get compression(): number {
    return (this.outFeatures * this.inFeatures) / this.cores.reduce((a, c) => a + c.size, 0);
  }

  /** The dense (out, in) matrix the cores represent (row-major), computing the left partials on the way. */
  reconstruct(): Float64Array {
    let L = new Float64Array([1]); // (Po, Pi, r) with Po = Pi = r = 1
    let Po = 1;
    let Pi = 1;
    this.left = [L];
    for (let k = 0; k < this.cores.length; k++) {
      const [ra, o, i, rb] = this.cores[k].shape;
      const G = this.cores[k].data;
      const N = new Float64Array(Po * o * Pi * i * rb); // ((Po, o), (Pi, i), rb)
      for (let po = 0; po < Po; po++)
        for (let pi = 0; pi < Pi; pi++)
          for (let a = 0; a < ra; a++) {
            const l = L[(po * Pi + pi) * ra + a];
            if (l === 0) continue;
            for (let oo = 0; oo < o; oo++)
              for (let ii = 0; ii < i; ii++) {
                const dst = ((po * o + oo) * (Pi * i) + pi * i + ii) * rb;
                const src = ((a * o + oo) * i + ii) * rb;
                for (let b = 0; b < rb; b++) N[dst + b] += l * G[src + b];
              }
          }
      L = N;
      Po *= o;
      Pi *= i;
      this.left.push(L);
    }
    return L; // last rank is 1, so this is (out, in)
  }

  forward(out: Arr, inp: Arr, N: number): void {
    this.W = ensure(this.W, this.dtype, this.outFeatures * this.inFeatures);
    this.W.set(this.reconstruct());
    matmulABt(out, inp, this.W, N, this.outFeatures, this.inFeatures);
    if (this.bias) {
      const O = this.outFeatures;
      for (let n = 0; n < N; n++) for (let j = 0; j < O; j++) out[n * O + j] += this.bias.data[j];
    }
  }

  backward(dinp: Arr | null, dout: Arr, inp: Arr, N: number): void {
    const O = this.outFeatures;
    const I = this.inFeatures;
    if (!this.W) throw new NnError('forward must run before backward', this.name);
    if (dinp) matmulAB(dinp, dout, this.W, N, I, O, true);
    if (this.bias && !this.bias.frozen)
      for (let n = 0; n < N; n++) for (let j = 0; j < O; j++) this.bias.grad[j] += dout[n * O + j];
    this.dW = ensure(this.dW, this.dtype, O * I);
    matmulAtB(this.dW, dout, inp, O, I, N);
    this.coreGradients(this.dW);
  }

  /** dG_k[a,o,i,b] += Σ L_{k}[(O<,I<),a] · dW[(O<,o,O>),(I<,i,I>)] · R_{k+1}[b,(O>,I>)]. */
  private coreGradients(dW: Arr): void {
    const K = this.cores.length;
    let R = new Float64Array([1]); // (r, Qo, Qi) product of cores k+1..K-1
    let Qo = 1;
    let Qi = 1;
    for (let k = K - 1; k >= 0; k--) {
      const core = this.cores[k];
      const [ra, o, i, rb] = core.shape;
      const L = this.left[k];
      const Po = this.outFeatures / (o * Qo);
      const Pi = this.inFeatures / (i * Qi);
      if (!core.frozen) {
        const dG = core.grad;
        for (let po = 0; po < Po; po++)
          for (let oo = 0; oo < o; oo++)
            for (let qo = 0; qo < Qo; qo++) {
              const row = (po * o + oo) * Qo + qo;
              for (let pi = 0; pi < Pi; pi++)
                for (let ii = 0; ii < i; ii++)
                  for (let qi = 0; qi < Qi; qi++) {
                    const d = dW[row * this.inFeatures + (pi * i + ii) * Qi + qi];
                    if (d === 0) continue;
                    for (let a = 0; a < ra; a++) {
                      const ld = L[(po * Pi + pi) * ra + a] * d;
                      const g = ((a * o + oo) * i + ii) * rb;
                      for (let b = 0; b < rb; b++) dG[g + b] += ld * R[(b * Qo + qo) * Qi + qi];
                    }
                  }
            }
      }
      // R ← G_k · R: (ra, o·Qo, i·Qi)
      const G = core.data;
      const N = new Float64Array(ra * o * Qo * i * Qi);
      for (let a = 0; a < ra; a++)
        for (let oo = 0; oo < o; oo++)
          for (let ii = 0; ii < i; ii++)
            for (let b = 0; b < rb; b++) {
              const gv = G[((a * o + oo) * i + ii) * rb + b];
              if (gv === 0) continue;
              for (let qo = 0; qo < Qo; qo++)
                for (let qi = 0; qi < Qi; qi++)
                  N[(a * o * Qo + oo * Qo + qo) * (i * Qi) + ii * Qi + qi] += gv * R[(b * Qo + qo) * Qi + qi];
            }
      R = N;
      Qo *= o;
      Qi *= i;
    }
  }
}
