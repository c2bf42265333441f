// Golden test of `qlab lm score`: the CLI scores the token ids of the PyTorch fixtures (test/fixtures/golden, model
// directories without a tokenizer.json) and its per-token log-probabilities, mean NLL and perplexity must match
// those computed here, in f64, from PyTorch's f32 logits; PyTorch's own cross-entropy over the labelled positions
// checks the reference once more.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../core/cli/lm';
import { readSafetensorsFile } from '../../../core/nn/checkpoint';
import { captureCli } from '../../helpers/seed-lab';

const FIXTURES = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));
// the lab's f32 logits are within 1.2e-5 of PyTorch's (golden-torch.test.ts); a log-softmax at most doubles that
const TOL = 1e-4;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qlab-golden-score-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const run = (argv: string[]) => captureCli(main, argv);

interface ScoreJson {
  model: string;
  tokens: number;
  scored: number;
  window: number;
  meanNll: number;
  perplexity: number;
  perToken: { position: number; id: number; token: string | null; logprob: number }[];
}

interface Fixture {
  B: number;
  T: number;
  V: number;
  tokens: Int32Array;
  labels: Int32Array;
  logits: Float32Array;
  loss: number;
}

async function fixture(name: string): Promise<Fixture> {
  const e = await readSafetensorsFile(`${FIXTURES}${name}/expected.safetensors`);
  const tok = e.get('tokens')!;
  const logits = e.get('logits.f32')!;
  const [B, T] = tok.shape;
  expect(logits.shape).toEqual([B, T, logits.shape[2]]);
  expect(logits.data).toBeInstanceOf(Float32Array);
  return {
    B,
    T,
    V: logits.shape[2],
    tokens: tok.data as Int32Array,
    labels: e.get('labels')!.data as Int32Array,
    logits: logits.data as Float32Array,
    loss: (e.get('loss.f32')!.data as Float32Array)[0],
  };
}

/** log p(tokens[b, t+1] | …) for t = 0..T−2 from the fixture's logits: log-softmax in f64 with the max taken out. */
function referenceLogProbs(f: Fixture, b: number): number[] {
  const out: number[] = [];
  for (let t = 0; t + 1 < f.T; t++) {
    const o = (b * f.T + t) * f.V;
    let mx = -Infinity;
    for (let v = 0; v < f.V; v++) mx = Math.max(mx, f.logits[o + v]);
    let z = 0;
    for (let v = 0; v < f.V; v++) z += Math.exp(f.logits[o + v] - mx);
    out.push(f.logits[o + f.tokens[b * f.T + t + 1]] - mx - Math.log(z));
  }
  return out;
}

async function score(name: string, ids: ArrayLike<number>, extra: string[] = []): Promise<ScoreJson> {
  const file = join(dir, `${name}-${ids.length}-${extra.join('')}.json`);
  await writeFile(file, JSON.stringify(Array.from(ids)));
  const r = await run(['score', '--model', `${FIXTURES}${name}`, '--tokens', file, '--json', ...extra]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as ScoreJson;
}

for (const name of ['llama', 'qwen2']) {
  describe(`golden: qlab lm score on the ${name} fixture (no tokenizer.json; --tokens)`, () => {
    it('per-token log-probabilities, mean NLL and perplexity match log-softmax of PyTorch’s f32 logits', async () => {
      const f = await fixture(name);
      const labelled: number[] = [];
      for (let b = 0; b < f.B; b++) {
        const ids = f.tokens.subarray(b * f.T, (b + 1) * f.T);
        const j = await score(name, ids);
        const ref = referenceLogProbs(f, b);
        expect(j.tokens).toBe(f.T);
        expect(j.scored).toBe(f.T - 1);
        expect(j.window).toBeGreaterThanOrEqual(f.T); // one window: every token sees its whole prefix
        expect(j.perToken.map((p) => p.position)).toEqual(ref.map((_, i) => i + 1));
        expect(j.perToken.map((p) => p.id)).toEqual(Array.from(ids.subarray(1)));
        expect(j.perToken.every((p) => p.token === null)).toBe(true);
        let worst = 0;
        j.perToken.forEach((p, i) => (worst = Math.max(worst, Math.abs(p.logprob - ref[i]))));
        expect(worst).toBeLessThan(TOL);
        const meanNll = -ref.reduce((a, c) => a + c, 0) / ref.length;
        expect(Math.abs(j.meanNll - meanNll)).toBeLessThan(TOL);
        expect(Math.abs(j.perplexity / Math.exp(meanNll) - 1)).toBeLessThan(TOL);
        // a random model is near-uniform over V = 97, so the numbers are of that size, not zero
        expect(j.perplexity).toBeGreaterThan(10);
        j.perToken.forEach((p, i) => {
          if (f.labels[b * f.T + i + 1] !== -100) labelled.push(-p.logprob);
        });
      }
      // PyTorch's mean cross-entropy over the labelled (not −100) shifted positions of both rows
      const ce = labelled.reduce((a, c) => a + c, 0) / labelled.length;
      expect(Math.abs(ce - f.loss)).toBeLessThan(TOL);
    });

    it('a window shorter than the sequence scores every token once, the first window as the full pass', async () => {
      const f = await fixture(name);
      const ids = f.tokens.subarray(0, f.T);
      const j = await score(name, ids, ['--window', '4']);
      expect(j.window).toBe(4);
      expect(j.scored).toBe(f.T - 1);
      expect(j.perToken.map((p) => p.position)).toEqual([...Array(f.T - 1).keys()].map((i) => i + 1));
      // positions 1..3 have their whole prefix inside the first window
      const ref = referenceLogProbs(f, 0);
      for (let i = 0; i < 3; i++) expect(Math.abs(j.perToken[i].logprob - ref[i])).toBeLessThan(TOL);
    });

    it('--text without a tokenizer.json is refused in one line that points to --tokens', async () => {
      const file = join(dir, `${name}.txt`);
      await writeFile(file, 'hello');
      const r = await run(['score', '--model', `${FIXTURES}${name}`, '--text', file]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(
        /^qlab lm: .*--text needs a tokenizer: no tokenizer\.json .*pass --tokens instead\n$/,
      );
    });
  });
}
