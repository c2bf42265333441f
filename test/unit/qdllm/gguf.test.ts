import { describe, expect, it } from 'vitest';
import {
  ggufPrompt,
  importNodeLlamaCpp,
  labelLogits,
  labelTokens,
  type GgufModel,
  type GgufSequence,
} from '../../../core/nn/gguf';

// A stand-in for node-llama-cpp's model: one token per word with its leading space, BOS = 1.
const vocab = new Map<string, number>([
  ['a', 10],
  [' b', 11],
  [' ham', 20],
  [' spam', 21],
]);
const model = {
  tokenize: (text: string) => [...text.matchAll(/ ?[^ ]+/g)].map((m) => vocab.get(m[0]) ?? 99),
  tokens: { bos: 1 },
} as unknown as GgufModel;

describe('GGUF teacher', () => {
  it('says to install node-llama-cpp when it is missing', async () => {
    const missing = async () => {
      const e = new Error("Cannot find package 'node-llama-cpp'") as Error & { code: string };
      e.code = 'ERR_MODULE_NOT_FOUND';
      throw e;
    };
    await expect(importNodeLlamaCpp(missing)).rejects.toThrow(
      'teacher.source: install node-llama-cpp to use a GGUF teacher',
    );
    await expect(importNodeLlamaCpp(async () => ({}))).rejects.toThrow(/getLlama/);
  });

  it('fills the prompt and reads label-word log-probabilities at the last position', async () => {
    expect(ggufPrompt('{labels}|{text}|{text}', 'hi', ['ham', 'spam'])).toBe('ham, spam|hi|hi');
    expect(labelTokens(model, ['ham', 'spam'])).toEqual([20, 21]);
    let seen: unknown[] = [];
    const seq: GgufSequence = {
      clearHistory: async () => {},
      controlledEvaluate: async (input) => {
        seen = input;
        return input.map((_, i) =>
          i === input.length - 1
            ? {
                next: {
                  probabilities: new Map([
                    [20, 0.2],
                    [21, 0.05],
                  ]),
                },
              }
            : undefined,
        );
      },
    };
    const logits = await labelLogits(model, seq, 'a b', [20, 21]);
    expect(logits[0]).toBeCloseTo(Math.log(0.2), 12);
    expect(logits[1]).toBeCloseTo(Math.log(0.05), 12);
    // BOS first, then the prompt, the last token asking for the next-token distribution
    expect(seen[0]).toBe(1);
    expect(seen[1]).toBe(10);
    expect(Array.isArray(seen[2])).toBe(true);
    expect((seen[2] as [number])[0]).toBe(11);
  });

  it('refuses label words that share a first token', () => {
    const firstWord = {
      tokenize: (text: string) => [text.trim().length],
      tokens: { bos: null },
    } as unknown as GgufModel;
    expect(() => labelTokens(firstWord, ['cat', 'dog'])).toThrow(/same token/);
  });
});
