// Issue 13: a model config.json whose sizes do not fit its weight files is refused before anything is
// allocated, naming the fields; a missing shard is named (a CheckpointError: exit 2 from `qlab lm`).
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  CheckpointError,
  loadModelDir,
  saveModelDir,
  specFromHfConfig,
} from '../../../core/nn/checkpoint';

let dir = '';
const base = {
  vocab_size: 16,
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  max_position_embeddings: 8,
};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qlab-ckpt-'));
  await saveModelDir(join(dir, 'm'), buildModel(specFromHfConfig(base), { seed: 1 }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function refusal(
  cfg: Record<string, unknown>,
): Promise<{ message: string; ms: number; heapMb: number }> {
  await writeFile(join(dir, 'm', 'config.json'), JSON.stringify({ ...base, ...cfg }));
  const heap = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  try {
    await loadModelDir(join(dir, 'm'));
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return {
      message: (e as Error).message,
      ms: performance.now() - t0,
      heapMb: (process.memoryUsage().heapUsed - heap) / 2 ** 20,
    };
  } finally {
    await writeFile(join(dir, 'm', 'config.json'), JSON.stringify(base));
  }
  throw new Error('expected a refusal');
}

describe('model config sizes against the files', () => {
  it('refuses num_hidden_layers 1e6, vocab_size 1e12 and hidden_size 1e6 at once, naming the fields', async () => {
    for (const cfg of [
      { num_hidden_layers: 1_000_000 },
      { vocab_size: 1e12 },
      { hidden_size: 1_000_000, num_attention_heads: 2 },
    ]) {
      const r = await refusal(cfg);
      expect(r.message, JSON.stringify(cfg)).toMatch(/config\.json: vocab_size .* num_hidden_layers/);
      expect(r.ms).toBeLessThan(500);
      expect(r.heapMb).toBeLessThan(100);
    }
  });

  it('names a shard the index lists but the folder lacks', async () => {
    const m = join(dir, 'sharded');
    await saveModelDir(m, buildModel(specFromHfConfig(base), { seed: 1 }));
    const st = await readFile(join(m, 'model.safetensors'));
    await writeFile(join(m, 'model-00001-of-00002.safetensors'), st);
    await unlink(join(m, 'model.safetensors'));
    await writeFile(
      join(m, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'model.norm.weight': 'model-00002-of-00002.safetensors' } }),
    );
    await expect(loadModelDir(m)).rejects.toThrow(
      /lists the shard model-00002-of-00002\.safetensors, which is missing/,
    );
  });
});
