import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../core/cli/lm';
import { buildModel, saveModelDir, specFromHfConfig } from '../../../core/nn/checkpoint';
import { CharTokenizer } from '../../../core/nn/tokenizers/char';
import type { Transformer } from '../../../core/nn/transformer';
import { captureCli } from '../../helpers/seed-lab';
import { tinyHfLm } from '../../helpers/tiny-transformer';

let dir = '';
let model: Transformer;
const tok = CharTokenizer.train(['abcdefghij ']);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qlab-lm-'));
  const spec = specFromHfConfig(tinyHfLm(tok.vocabSize, 6));
  model = buildModel(spec, { seed: 11 });
  await saveModelDir(join(dir, 'm'), model, { tokenizer: tok });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const run = (argv: string[]) => captureCli(main, argv);

/** log p(ids[t+1] | ids[..t]) straight from the model's logits over the whole sequence. */
function directLogProbs(ids: number[]): number[] {
  const V = model.config.vocabSize;
  model.lmForward(Int32Array.from(ids), 1, ids.length);
  const out: number[] = [];
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = Array.from(model.logits!.subarray(t * V, (t + 1) * V));
    const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    out.push(row[ids[t + 1]] - lse);
  }
  return out;
}

describe('qlab lm score', () => {
  it('prints per-token log-probabilities, mean NLL and perplexity for --tokens', async () => {
    const ids = [1, 4, 2, 7, 3];
    await writeFile(join(dir, 'ids.json'), JSON.stringify(ids));
    const r = await run(['score', '--model', join(dir, 'm'), '--tokens', join(dir, 'ids.json'), '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const expected = directLogProbs(ids);
    expect(j.scored).toBe(4);
    j.perToken.forEach((p: { logprob: number; id: number }, i: number) => {
      expect(p.id).toBe(ids[i + 1]);
      expect(p.logprob).toBeCloseTo(expected[i], 5);
    });
    const mean = -expected.reduce((a, b) => a + b, 0) / expected.length;
    expect(j.meanNll).toBeCloseTo(mean, 5);
    expect(j.perplexity).toBeCloseTo(Math.exp(mean), 4);
  });

  it('tokenises --text with the directory’s tokenizer and windows long inputs', async () => {
    const text = 'abcab jihgfedcba';
    await writeFile(join(dir, 't.txt'), text);
    const r = await run(['score', '--model', join(dir, 'm'), '--text', join(dir, 't.txt'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.tokens).toBe(text.length);
    expect(j.scored).toBe(text.length - 1); // windows of 6 overlapping by one: every token after the first once
    expect(j.window).toBe(6);
    expect(j.perToken.map((p: { position: number }) => p.position)).toEqual(
      [...Array(text.length - 1).keys()].map((i) => i + 1),
    );
    // The first window's scores equal a direct forward over those 6 tokens.
    const first = directLogProbs(tok.encode(text.slice(0, 6)));
    first.forEach((lp, i) => expect(j.perToken[i].logprob).toBeCloseTo(lp, 5));
    expect(j.perToken[0].token).toBe('b');
  });

  it('refuses bad input with one line and exit code 2', async () => {
    await writeFile(join(dir, 'bad.json'), '[1, 2, 999]');
    const r = await run(['score', '--model', join(dir, 'm'), '--tokens', join(dir, 'bad.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/token at index 2 is 999, not an id in \[0, 12\)/);
    const both = await run(['score', '--model', join(dir, 'm')]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/exactly one of --text or --tokens/);
    const missing = await run(['score', '--model', join(dir, 'nope'), '--tokens', join(dir, 'bad.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/config\.json not found/);
  });
});
