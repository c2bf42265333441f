// The classical student/head baseline on frozen embeddings: Linear(E → h) → GELU → Linear(h → C), in f64,
// with h chosen so its trainable-parameter count matches another model's (nn/param-counts.ts sizes it).
import { geluBackward, geluForward, Linear } from './layers';
import { Rng } from '../util/rng';
import type { Parameter } from './tensor';

export class MlpClassifier {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private x: Float64Array = new Float64Array(0); // (B, E)
  private h: Float64Array = new Float64Array(0); // (B, hidden) pre-activation
  private a: Float64Array = new Float64Array(0); // (B, hidden)
  private B = 0;

  constructor(
    readonly inFeatures: number,
    readonly hidden: number,
    readonly classes: number,
    seed: number,
    name = 'mlp',
  ) {
    this.fc1 = new Linear(`${name}.fc1`, inFeatures, hidden, { bias: true, dtype: 'f64' });
    this.fc2 = new Linear(`${name}.fc2`, hidden, classes, { bias: true, dtype: 'f64' });
    const rng = new Rng(seed);
    rng.fillNormal(this.fc1.weight.data, 1 / Math.sqrt(inFeatures));
    rng.fillNormal(this.fc2.weight.data, 1 / Math.sqrt(hidden));
  }

  parameters(): Parameter[] {
    return [...this.fc1.parameters(), ...this.fc2.parameters()];
  }

  /** (B, E) → logits (B, C). */
  forward(x: Float64Array, B: number): Float64Array {
    this.x = x;
    this.B = B;
    this.h = new Float64Array(B * this.hidden);
    this.a = new Float64Array(B * this.hidden);
    this.fc1.forward(this.h, x, B);
    geluForward(this.a, this.h, B * this.hidden);
    const out = new Float64Array(B * this.classes);
    this.fc2.forward(out, this.a, B);
    return out;
  }

  backward(dlogits: Float64Array): void {
    const B = this.B;
    const da = new Float64Array(B * this.hidden);
    this.fc2.backward(da, dlogits, this.a, B);
    const dh = new Float64Array(B * this.hidden);
    geluBackward(dh, da, this.h, B * this.hidden);
    this.fc1.backward(null, dh, this.x, B);
  }
}
