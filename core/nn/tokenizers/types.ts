// The contract every tokenizer meets, so models, datasets and the CLI do not care which one they hold.

export interface Tokenizer {
  /** Number of ids (the largest id + 1). */
  readonly vocabSize: number;
  encode(text: string): number[];
  /** Inverse of encode; ids that do not exist are an error naming the position. */
  decode(ids: ArrayLike<number>): string;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}
