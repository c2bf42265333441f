// Character tokenizer: one id per Unicode code point seen in the training text (sorted by code point, so the
// same corpus gives the same ids), plus special tokens first; unseen characters map to <unk> or are refused.
import { TokenizerError, type Tokenizer } from './types';
import { stripBom } from '../../util/text';

export interface CharTokenizerOptions {
  /** Special tokens, given ids 0.. in this order; must include `unkToken` when unknown is 'map'. */
  specialTokens?: string[];
  unkToken?: string;
  /** 'map': unseen characters become <unk>; 'error': encode throws naming the character and offset. */
  unknown?: 'map' | 'error';
  /** Characters seen fewer times than this are left out of the vocabulary (default 1). */
  minFrequency?: number;
}

export class CharTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly unkId: number | null;
  readonly unknown: 'map' | 'error';
  private readonly tokens: string[];
  private readonly ids = new Map<string, number>();
  private readonly specials: Set<string>;

  /** `tokens[i]` is the token with id i: special tokens (any string) then single code points. */
  constructor(
    tokens: string[],
    opts: { specialTokens?: string[]; unkToken?: string; unknown?: 'map' | 'error' } = {},
  ) {
    this.tokens = [...tokens];
    this.specials = new Set(opts.specialTokens ?? []);
    this.tokens.forEach((t, i) => {
      if (this.ids.has(t))
        throw new TokenizerError(
          `vocabulary: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i})`,
        );
      if (!this.specials.has(t) && [...t].length !== 1) {
        throw new TokenizerError(
          `vocabulary: token ${i} ${JSON.stringify(t)} is neither a special token nor one character`,
        );
      }
      this.ids.set(t, i);
    });
    this.vocabSize = this.tokens.length;
    this.unknown = opts.unknown ?? 'map';
    const unk = opts.unkToken ?? '<unk>';
    this.unkId = this.ids.get(unk) ?? null;
    if (this.unknown === 'map' && this.unkId === null) {
      throw new TokenizerError(
        `unknown: 'map' needs the unknown token ${JSON.stringify(unk)} in the vocabulary`,
      );
    }
  }

  static train(texts: Iterable<string>, opts: CharTokenizerOptions = {}): CharTokenizer {
    const unknown = opts.unknown ?? 'map';
    const unkToken = opts.unkToken ?? '<unk>';
    const specials = [...(opts.specialTokens ?? (unknown === 'map' ? [unkToken] : []))];
    if (unknown === 'map' && !specials.includes(unkToken)) specials.unshift(unkToken);
    const counts = new Map<string, number>();
    for (const text of texts) for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    const minF = opts.minFrequency ?? 1;
    const chars = [...counts].filter(([ch, n]) => n >= minF && !specials.includes(ch)).map(([ch]) => ch);
    chars.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer([...specials, ...chars], { specialTokens: specials, unkToken, unknown });
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let offset = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id !== undefined && !this.specials.has(ch)) out.push(id);
      else if (this.unknown === 'map') out.push(this.unkId!);
      else {
        const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
        throw new TokenizerError(`character U+${cp} at offset ${offset} is not in the vocabulary`);
      }
      offset += ch.length;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const t = this.tokens[ids[i]];
      if (t === undefined)
        throw new TokenizerError(`decode: id ${ids[i]} at position ${i} is not in the vocabulary`);
      s += t;
    }
    return s;
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  toJson(): string {
    return (
      JSON.stringify(
        {
          type: 'char',
          tokens: this.tokens,
          specialTokens: [...this.specials],
          unkToken: this.unkId === null ? null : this.tokens[this.unkId],
          unknown: this.unknown,
        },
        null,
        2,
      ) + '\n'
    );
  }

  static fromJson(text: string): CharTokenizer {
    let o: unknown;
    try {
      o = JSON.parse(stripBom(text));
    } catch (e) {
      throw new TokenizerError(`char tokenizer file is not valid JSON: ${(e as Error).message}`);
    }
    const r = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
    if (r.type !== 'char') throw new TokenizerError('char tokenizer file: type must be "char"');
    const strings = (v: unknown, field: string): string[] => {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        throw new TokenizerError(`char tokenizer file: ${field} must be an array of strings`);
      }
      return v as string[];
    };
    if (r.unknown !== 'map' && r.unknown !== 'error')
      throw new TokenizerError('char tokenizer file: unknown must be "map" or "error"');
    return new CharTokenizer(strings(r.tokens, 'tokens'), {
      specialTokens: strings(r.specialTokens ?? [], 'specialTokens'),
      unkToken: typeof r.unkToken === 'string' ? r.unkToken : undefined,
      unknown: r.unknown,
    });
  }
}
