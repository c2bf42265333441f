import { describe, expect, it } from 'vitest';
import { describeZodError } from '../../../core/api/lab-api';
import { qdllmKind, QdllmConfigSchema } from '../../../core/methods/qdllm';

function message(input: unknown): string {
  const r = QdllmConfigSchema.safeParse(input);
  if (r.success) throw new Error('expected the config to be refused');
  return describeZodError(r.error, 'config').message;
}

describe('qdllm config', () => {
  it('has the paper defaults', () => {
    const d = qdllmKind.defaults;
    expect([
      d.qubits,
      d.layers,
      d.scale,
      d.lr,
      d.epochs,
      d.batchSize,
      d.alpha,
      d.temperature,
      d.seeds,
    ]).toEqual([11, 11, 10, 0.06, 10, 8, 0.9, 2, 5]);
    expect(d.loss).toBe('all');
    expect(d.dataset).toBe('spam-assassin');
    expect(d.teacher.source).toBe('lab-transformer');
  });

  it('refuses an unknown dataset, listing the known ones', () => {
    const m = message({ dataset: 'imdb' });
    expect(m).toMatch(
      /^config\.dataset: unknown dataset "imdb"; known datasets: spam-assassin, brown-topics/,
    );
  });

  it('refuses fewer qubits than classes, naming qubits', () => {
    expect(message({ dataset: 'brown-topics', qubits: 3 })).toMatch(/^config\.qubits: .*need qubits ≥ 4/);
    expect(QdllmConfigSchema.safeParse({ dataset: 'brown-topics', qubits: 4 }).success).toBe(true);
  });

  it('refuses α outside [0, 1], naming alpha', () => {
    expect(message({ alpha: 1.01 })).toBe('config.alpha: must be in [0, 1]');
    expect(message({ alpha: -0.5 })).toBe('config.alpha: must be in [0, 1]');
    expect(QdllmConfigSchema.safeParse({ alpha: 0 }).success).toBe(true);
    expect(QdllmConfigSchema.safeParse({ alpha: 1 }).success).toBe(true);
  });

  it('refuses unknown fields, a bad loss, a GGUF teacher without a model path, a bad LoRA regex', () => {
    expect(message({ qbits: 4 })).toMatch(/qbits/);
    expect(message({ loss: 'mse' })).toMatch(/^config\.loss/);
    expect(message({ teacher: { source: 'gguf' } })).toMatch(/^config\.teacher\.modelPath/);
    expect(message({ teacher: { source: 'lab-transformer', loraTargets: '(' } })).toMatch(
      /^config\.teacher\.loraTargets: not a valid regular expression/,
    );
  });
});
