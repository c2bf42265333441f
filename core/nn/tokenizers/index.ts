// Tokenizers: byte-level BPE (GPT-2 family, trainable) and characters; loadTokenizer picks by file content.
import { ByteLevelBpe } from './bpe';
import { CharTokenizer } from './char';
import { TokenizerError, type Tokenizer } from './types';
import { stripBom } from '../../util/text';

export { ByteLevelBpe, GPT2_PATTERN, toJsRegexSource, type AddedToken, type BpeTrainOptions } from './bpe';
export { CharTokenizer, type CharTokenizerOptions } from './char';
export { TokenizerError, type Tokenizer } from './types';

/** Reads a tokenizer.json: a Hugging Face byte-level BPE file, or this lab's {"type": "char"} file. */
export function tokenizerFromJson(json: string): Tokenizer {
  const text = stripBom(json);
  let head: unknown;
  try {
    head = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`tokenizer file is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof head === 'object' && head !== null && (head as { type?: unknown }).type === 'char') {
    return CharTokenizer.fromJson(text);
  }
  return ByteLevelBpe.fromTokenizerJson(text);
}
