import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/nn/rng';
import { Transformer } from '../../../core/nn/transformer';
import { encodeTexts, meanHiddenStates, type EncodedTexts } from '../../../core/nn/text-classifier';
import { ByteLevelBpe } from '../../../core/nn/tokenizers';

const W = 8; // maxSeqLen: texts longer than this are windowed
const model = new Transformer(
  {
    flavour: 'llama',
    vocabSize: 40,
    hiddenSize: 16,
    intermediateSize: 32,
    numLayers: 2,
    numHeads: 2,
    maxSeqLen: W,
  },
  { dtype: 'f64', seed: 4 },
);
model.training = false;

/** Reference: each window of each text forwarded alone, all its positions summed, divided by its length. */
function reference(e: EncodedTexts): Float64Array {
  const N = e.offsets.length - 1;
  const H = 16;
  const out = new Float64Array(N * H);
  for (let i = 0; i < N; i++) {
    const ids = e.ids.subarray(e.offsets[i], e.offsets[i + 1]);
    for (let s = 0; s < ids.length; s += W) {
      const win = Int32Array.from(ids.subarray(s, s + W));
      const h = model.forwardHidden(win, 1, win.length);
      for (let t = 0; t < win.length; t++) for (let c = 0; c < H; c++) out[i * H + c] += h[t * H + c];
    }
    for (let c = 0; c < H; c++) out[i * H + c] /= ids.length;
  }
  return out;
}

describe('meanHiddenStates (windowed, batched mean pooling)', () => {
  const lengths = [1, 5, 8, 9, 17, 3, 24, 2];
  const rng = new Rng(2);
  const parts = lengths.map((n) => Array.from({ length: n }, () => rng.int(40)));
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i] + p.length));
  const e: EncodedTexts = { offsets, ids: Int32Array.from(parts.flat()) };
  const ref = reference(e);

  for (const batch of [1, 3, 16])
    it(`equals each window run alone (batch ${batch}, texts of 1 to 3 windows)`, () => {
      const got = meanHiddenStates(model, e, batch);
      expect(got.length).toBe(ref.length);
      for (let k = 0; k < ref.length; k++) expect(got[k]).toBeCloseTo(ref[k], 10);
    });

  it('reports progress in texts, ending at N', () => {
    const seen: number[] = [];
    meanHiddenStates(model, e, 3, (d) => seen.push(d));
    expect(seen.at(-1)).toBe(lengths.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
  });

  it('with encodeTexts: keeps the first maxTokens tokens, so a longer tail does not change the embedding', () => {
    const tok = ByteLevelBpe.train(['the cat sat on the mat and the dog sat on the log'], { vocabSize: 270 });
    const m = new Transformer(
      {
        flavour: 'llama',
        vocabSize: tok.vocabSize,
        hiddenSize: 16,
        intermediateSize: 32,
        numLayers: 1,
        numHeads: 2,
        maxSeqLen: W,
      },
      { dtype: 'f64', seed: 1 },
    );
    const a = meanHiddenStates(m, encodeTexts(tok, ['the cat sat on the mat'], 5));
    const b = meanHiddenStates(m, encodeTexts(tok, ['the cat sat on the mat and far more text after it'], 5));
    expect(Array.from(a)).toEqual(Array.from(b));
    const c = meanHiddenStates(m, encodeTexts(tok, ['a dog'], 5));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});
