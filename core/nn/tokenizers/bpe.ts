// Byte-level BPE as in GPT-2: pre-tokenise with a regex, turn each piece's UTF-8 bytes into visible
// characters, then apply merges in rank order. Trainable, and loadable from vocab.json + merges.txt or a
// Hugging Face tokenizer.json (model.type "BPE" with a ByteLevel pre-tokenizer).
import { byteChar, charByte } from './byte-unicode';
import { TokenizerError, type Tokenizer } from './types';
import { stripBom } from '../../util/text';

/** GPT-2's pre-tokenisation pattern (contractions, letters, numbers, other symbols, whitespace). */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface ByteLevelBpeSpec {
  /** Token string (in the byte-level alphabet) → id; must contain all 256 byte characters. */
  vocab: Map<string, number>;
  /** Merges in rank order, each a pair of token strings whose concatenation is in the vocab. */
  merges: [string, string][];
  /** Tokens matched verbatim in the input before pre-tokenisation (e.g. "<|endoftext|>"). */
  addedTokens?: AddedToken[];
  /** Pre-tokenisation regex source (Unicode flag); defaults to GPT-2's. */
  pattern?: string;
  /** Unicode normalisation applied before pre-tokenising (Qwen2 uses NFC). */
  normalization?: 'NFC' | null;
  addPrefixSpace?: boolean;
  /** Llama-3 style: a piece already in the vocab is emitted whole without applying merges. */
  ignoreMerges?: boolean;
}

export interface BpeTrainOptions {
  /** Final vocabulary size, 256 byte tokens and the special tokens included. */
  vocabSize: number;
  /** A pair seen fewer times than this is never merged (default 2). */
  minFrequency?: number;
  /** Appended after the learned tokens, in this order. */
  specialTokens?: string[];
  pattern?: string;
}

const PAIR = 2097152; // 2^21: pair key = left * PAIR + right, exact in a double for ids below 2^21
const CACHE_LIMIT = 200_000;

export class ByteLevelBpe implements Tokenizer {
  readonly vocabSize: number;
  readonly merges: readonly [string, string][];
  readonly addedTokens: readonly AddedToken[];
  readonly pattern: string;
  readonly normalization: 'NFC' | null;
  readonly addPrefixSpace: boolean;
  readonly ignoreMerges: boolean;
  private readonly tokens: (string | undefined)[];
  private readonly ids: Map<string, number>;
  private readonly byteIds = new Int32Array(256);
  private readonly mergeRank = new Map<number, number>();
  private readonly mergeResult: Int32Array;
  private readonly mergeLeft: Int32Array;
  private readonly mergeRight: Int32Array;
  private readonly splitter: RegExp;
  private readonly addedSplitter: RegExp | null;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, number>();
  private readonly cache = new Map<string, Int32Array>();
  private readonly decodeBytes: (Uint8Array | undefined)[] = [];
  private readonly encoder = new TextEncoder();

  constructor(spec: ByteLevelBpeSpec) {
    this.pattern = spec.pattern ?? GPT2_PATTERN;
    this.normalization = spec.normalization ?? null;
    this.addPrefixSpace = spec.addPrefixSpace ?? false;
    this.ignoreMerges = spec.ignoreMerges ?? false;
    this.ids = new Map(spec.vocab);
    this.addedTokens = (spec.addedTokens ?? []).map((t) => ({ ...t }));
    let maxId = -1;
    for (const [tok, id] of this.ids) {
      if (!Number.isInteger(id) || id < 0 || id >= PAIR) {
        throw new TokenizerError(
          `vocab: id ${id} of token ${JSON.stringify(tok)} is not an integer in [0, ${PAIR})`,
        );
      }
      maxId = Math.max(maxId, id);
    }
    for (const t of this.addedTokens) {
      if (!Number.isInteger(t.id) || t.id < 0 || t.id >= PAIR) {
        throw new TokenizerError(`added token ${JSON.stringify(t.content)}: id ${t.id} is out of range`);
      }
      if (t.content.length === 0) throw new TokenizerError(`added token ${t.id}: content is empty`);
      maxId = Math.max(maxId, t.id);
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t.id);
    }
    this.vocabSize = maxId + 1;
    this.tokens = new Array(this.vocabSize);
    for (const [tok, id] of this.ids) {
      if (this.tokens[id] !== undefined && this.tokens[id] !== tok) {
        throw new TokenizerError(
          `vocab: id ${id} is given to both ${JSON.stringify(this.tokens[id])} and ${JSON.stringify(tok)}`,
        );
      }
      this.tokens[id] = tok;
    }
    for (const t of this.addedTokens) {
      if (this.tokens[t.id] === undefined) this.tokens[t.id] = t.content;
    }
    for (let b = 0; b < 256; b++) {
      const id = this.ids.get(byteChar(b));
      if (id === undefined) {
        throw new TokenizerError(
          `vocab lacks the byte-level token for byte 0x${b.toString(16).padStart(2, '0')} (${JSON.stringify(byteChar(b))}); not a byte-level BPE vocab`,
        );
      }
      this.byteIds[b] = id;
    }
    this.mergeResult = new Int32Array(spec.merges.length);
    this.mergeLeft = new Int32Array(spec.merges.length);
    this.mergeRight = new Int32Array(spec.merges.length);
    spec.merges.forEach(([l, r], rank) => {
      const a = this.ids.get(l);
      const b = this.ids.get(r);
      const c = this.ids.get(l + r);
      if (a === undefined || b === undefined || c === undefined) {
        const missing = a === undefined ? l : b === undefined ? r : l + r;
        throw new TokenizerError(
          `merge ${rank + 1} ("${l} ${r}"): token ${JSON.stringify(missing)} is not in the vocab`,
        );
      }
      const key = a * PAIR + b;
      if (!this.mergeRank.has(key)) this.mergeRank.set(key, rank);
      this.mergeResult[rank] = c;
      this.mergeLeft[rank] = a;
      this.mergeRight[rank] = b;
    });
    this.merges = spec.merges.map(([l, r]) => [l, r] as [string, string]);
    try {
      this.splitter = new RegExp(this.pattern, 'gu');
    } catch (e) {
      throw new TokenizerError(
        `pre-tokenizer pattern is not a valid regular expression: ${(e as Error).message}`,
      );
    }
    const contents = this.addedTokens.map((t) => t.content).sort((x, y) => y.length - x.length);
    this.addedSplitter =
      contents.length > 0
        ? new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu')
        : null;
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.ids.get(token);
  }

  encode(text: string): number[] {
    const out: number[] = [];
    if (this.normalization === 'NFC') text = text.normalize('NFC');
    if (!this.addedSplitter) {
      this.encodeOrdinary(text, out);
      return out;
    }
    let last = 0;
    for (const m of text.matchAll(this.addedSplitter)) {
      const at = m.index;
      if (at > last) this.encodeOrdinary(text.slice(last, at), out);
      out.push(this.addedByContent.get(m[0])!);
      last = at + m[0].length;
    }
    if (last < text.length) this.encodeOrdinary(text.slice(last), out);
    return out;
  }

  /** The pre-tokenised pieces of `text` (without added-token handling), for inspection and tests. */
  pretokenize(text: string): string[] {
    if (this.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    return Array.from(text.matchAll(this.splitter), (m) => m[0]);
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (this.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    for (const m of text.matchAll(this.splitter)) {
      const piece = m[0];
      let ids = this.cache.get(piece);
      if (ids === undefined) {
        ids = this.encodePiece(piece);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(piece, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  /** One pre-tokenised piece: bytes → byte ids, then repeatedly merge the lowest-ranked adjacent pair. */
  private encodePiece(piece: string): Int32Array {
    const bytes = this.encoder.encode(piece); // lone surrogates become U+FFFD here, as in every UTF-8 encoder
    if (this.ignoreMerges) {
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += byteChar(bytes[i]);
      const whole = this.ids.get(s);
      if (whole !== undefined) return Int32Array.of(whole);
    }
    let syms: number[] = Array.from(bytes, (b) => this.byteIds[b]);
    while (syms.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.mergeRank.get(syms[i] * PAIR + syms[i + 1]);
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Infinity) break;
      const a = this.mergeLeft[bestRank];
      const b = this.mergeRight[bestRank];
      const c = this.mergeResult[bestRank];
      const next: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          next.push(c);
          i++;
        } else next.push(syms[i]);
      }
      syms = next;
    }
    return Int32Array.from(syms);
  }

  decode(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (opts.skipSpecial && this.addedById.get(id)?.special) continue;
      const bytes = this.tokenBytes(id, i);
      parts.push(bytes);
      total += bytes.length;
    }
    const all = new Uint8Array(total);
    let p = 0;
    for (const b of parts) {
      all.set(b, p);
      p += b.length;
    }
    // Non-fatal decoding: a sequence cut inside a multi-byte character decodes to U+FFFD, as HF does.
    return new TextDecoder('utf-8').decode(all);
  }

  private tokenBytes(id: number, position: number): Uint8Array {
    const cached = this.decodeBytes[id];
    if (cached) return cached;
    const tok = Number.isInteger(id) ? this.tokens[id] : undefined;
    if (tok === undefined)
      throw new TokenizerError(`decode: id ${id} at position ${position} is not in the vocabulary`);
    let bytes: Uint8Array;
    const added = this.addedById.get(id);
    if (added) bytes = this.encoder.encode(added.content);
    else {
      const arr: number[] = [];
      for (const ch of tok) {
        const b = charByte(ch);
        if (b === undefined) {
          // A vocab entry outside the byte alphabet (e.g. a special token stored in vocab.json): emit its text.
          for (const x of this.encoder.encode(ch)) arr.push(x);
        } else arr.push(b);
      }
      bytes = Uint8Array.from(arr);
    }
    this.decodeBytes[id] = bytes;
    return bytes;
  }

  // ---- training ----

  /** Learns merges from a corpus; the same corpus and options always give the same tokenizer. */
  static train(texts: Iterable<string>, opts: BpeTrainOptions): ByteLevelBpe {
    const specials = opts.specialTokens ?? [];
    const minFrequency = opts.minFrequency ?? 2;
    if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 256 + specials.length) {
      throw new TokenizerError(
        `vocabSize must be an integer of at least ${256 + specials.length} (256 bytes + special tokens)`,
      );
    }
    const pattern = opts.pattern ?? GPT2_PATTERN;
    const splitter = new RegExp(pattern, 'gu');
    const specialSplit = specials.length
      ? new RegExp(specials.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu')
      : null;
    const wordCounts = new Map<string, number>();
    for (const text of texts) {
      const segments = specialSplit ? text.split(specialSplit) : [text];
      for (const seg of segments) {
        for (const m of seg.matchAll(splitter)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
      }
    }
    const enc = new TextEncoder();
    const tokens: string[] = [];
    const vocab = new Map<string, number>();
    for (let b = 0; b < 256; b++) {
      tokens.push(byteChar(b));
      vocab.set(byteChar(b), b);
    }
    const words: number[][] = [];
    const counts: number[] = [];
    for (const [w, c] of wordCounts) {
      words.push(Array.from(enc.encode(w)));
      counts.push(c);
    }
    const pairCount = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const addWordPairs = (w: number, sign: number, changed: Set<number>): void => {
      const s = words[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const key = s[i] * PAIR + s[i + 1];
        const n = (pairCount.get(key) ?? 0) + sign * counts[w];
        if (n === 0) pairCount.delete(key);
        else pairCount.set(key, n);
        changed.add(key);
        if (sign > 0) {
          let set = pairWords.get(key);
          if (!set) pairWords.set(key, (set = new Set()));
          set.add(w);
        }
      }
    };
    const heap = new PairHeap();
    const initial = new Set<number>();
    for (let w = 0; w < words.length; w++) addWordPairs(w, 1, initial);
    for (const key of initial) heap.push(pairCount.get(key)!, key);

    const merges: [string, string][] = [];
    const target = opts.vocabSize - specials.length;
    while (vocab.size < target) {
      const best = heap.popValid(pairCount);
      if (best === null || best.count < minFrequency) break;
      const a = Math.floor(best.key / PAIR);
      const b = best.key - a * PAIR;
      const merged = tokens[a] + tokens[b];
      let c = vocab.get(merged);
      if (c === undefined) {
        c = tokens.length;
        tokens.push(merged);
        vocab.set(merged, c);
      }
      merges.push([tokens[a], tokens[b]]);
      const changed = new Set<number>();
      const affected = [...(pairWords.get(best.key) ?? [])].sort((x, y) => x - y);
      pairWords.delete(best.key);
      for (const w of affected) {
        const s = words[w];
        let has = false;
        for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) has = true;
        if (!has) continue;
        addWordPairs(w, -1, changed);
        const next: number[] = [];
        for (let i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
            next.push(c);
            i++;
          } else next.push(s[i]);
        }
        words[w] = next;
        addWordPairs(w, 1, changed);
      }
      for (const key of changed) {
        const n = pairCount.get(key);
        if (n !== undefined) heap.push(n, key);
      }
    }
    const addedTokens: AddedToken[] = specials.map((content, i) => ({
      id: tokens.length + i,
      content,
      special: true,
    }));
    for (const t of addedTokens) vocab.set(t.content, t.id);
    return new ByteLevelBpe({ vocab, merges, addedTokens, pattern });
  }

  // ---- serialisation ----

  /** vocab.json: token → id, in id order (special tokens included, as GPT-2's file has them). */
  toVocabJson(): string {
    const obj: Record<string, number> = {};
    for (let id = 0; id < this.tokens.length; id++) {
      const t = this.tokens[id];
      if (t !== undefined && this.tokenToId(t) === id) obj[t] = id;
    }
    return JSON.stringify(obj, null, 2) + '\n';
  }

  toMergesTxt(): string {
    return '#version: 0.2\n' + this.merges.map(([l, r]) => `${l} ${r}\n`).join('');
  }

  /** Loads GPT-2's vocab.json + merges.txt; `specialTokens` names the vocab entries to match verbatim. */
  static fromVocabMerges(
    vocabJson: string,
    mergesTxt: string,
    opts: { specialTokens?: string[]; pattern?: string } = {},
  ): ByteLevelBpe {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stripBom(vocabJson));
    } catch (e) {
      throw new TokenizerError(`vocab.json is not valid JSON: ${(e as Error).message}`);
    }
    const vocab = parseVocabObject(parsed, 'vocab.json');
    const merges: [string, string][] = [];
    stripBom(mergesTxt)
      .split(/\r?\n/)
      .forEach((line, i) => {
        if (line.length === 0 || (i === 0 && line.startsWith('#version'))) return;
        const parts = line.split(' ');
        if (parts.length !== 2 || !parts[0] || !parts[1]) {
          throw new TokenizerError(
            `merges.txt line ${i + 1}: expected two tokens separated by one space, got ${JSON.stringify(line)}`,
          );
        }
        merges.push([parts[0], parts[1]]);
      });
    const addedTokens: AddedToken[] = (opts.specialTokens ?? []).map((content) => {
      const id = vocab.get(content);
      if (id === undefined)
        throw new TokenizerError(`special token ${JSON.stringify(content)} is not in vocab.json`);
      return { id, content, special: true };
    });
    return new ByteLevelBpe({ vocab, merges, addedTokens, pattern: opts.pattern });
  }

  /** A Hugging Face tokenizer.json that this class (and the `tokenizers` library) reads back. */
  toTokenizerJson(): string {
    const vocab: Record<string, number> = {};
    for (const [t, id] of [...this.ids].sort((x, y) => x[1] - y[1])) vocab[t] = id;
    const byteLevel = {
      type: 'ByteLevel',
      add_prefix_space: this.addPrefixSpace,
      trim_offsets: true,
      use_regex: true,
    };
    const preTokenizer =
      this.pattern === GPT2_PATTERN
        ? byteLevel
        : {
            type: 'Sequence',
            pretokenizers: [
              { type: 'Split', pattern: { Regex: this.pattern }, behavior: 'Isolated', invert: false },
              { ...byteLevel, use_regex: false },
            ],
          };
    const doc = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((t) => ({
        id: t.id,
        content: t.content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: t.special,
      })),
      normalizer: this.normalization === 'NFC' ? { type: 'NFC' } : null,
      pre_tokenizer: preTokenizer,
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: this.ignoreMerges,
        vocab,
        merges: this.merges.map(([l, r]) => `${l} ${r}`),
      },
    };
    return JSON.stringify(doc, null, 2) + '\n';
  }

  /** Reads a Hugging Face tokenizer.json of a byte-level BPE model (GPT-2, Qwen2, Llama-3 style). */
  static fromTokenizerJson(text: string): ByteLevelBpe {
    let doc: unknown;
    try {
      doc = JSON.parse(stripBom(text));
    } catch (e) {
      throw new TokenizerError(`tokenizer.json is not valid JSON: ${(e as Error).message}`);
    }
    const root = asObject(doc, 'tokenizer.json');
    const model = asObject(root.model, 'tokenizer.json: model');
    if (model.type !== undefined && model.type !== 'BPE') {
      throw new TokenizerError(
        `tokenizer.json: model.type is ${JSON.stringify(model.type)}; only "BPE" is supported`,
      );
    }
    if (model.byte_fallback === true) {
      throw new TokenizerError(
        'tokenizer.json: model.byte_fallback is true (SentencePiece-style BPE); only byte-level BPE is supported',
      );
    }
    const vocab = parseVocabObject(model.vocab, 'tokenizer.json: model.vocab');
    if (!Array.isArray(model.merges))
      throw new TokenizerError('tokenizer.json: model.merges must be an array');
    const merges = model.merges.map((m: unknown, i: number): [string, string] => {
      if (typeof m === 'string') {
        const parts = m.split(' ');
        if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]];
      } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
        return [m[0], m[1]];
      }
      throw new TokenizerError(`tokenizer.json: model.merges[${i}] must be "left right" or [left, right]`);
    });
    const addedTokens: AddedToken[] = [];
    if (root.added_tokens !== undefined && root.added_tokens !== null) {
      if (!Array.isArray(root.added_tokens))
        throw new TokenizerError('tokenizer.json: added_tokens must be an array');
      root.added_tokens.forEach((t: unknown, i: number) => {
        const o = asObject(t, `tokenizer.json: added_tokens[${i}]`);
        if (!Number.isInteger(o.id) || typeof o.content !== 'string') {
          throw new TokenizerError(
            `tokenizer.json: added_tokens[${i}] needs an integer id and a string content`,
          );
        }
        addedTokens.push({ id: o.id as number, content: o.content, special: o.special === true });
      });
    }
    let normalization: 'NFC' | null = null;
    if (root.normalizer !== null && root.normalizer !== undefined) {
      const n = asObject(root.normalizer, 'tokenizer.json: normalizer');
      if (n.type === 'NFC') normalization = 'NFC';
      else
        throw new TokenizerError(
          `tokenizer.json: normalizer.type ${JSON.stringify(n.type)} is not supported (only NFC)`,
        );
    }
    const pre = readPreTokenizer(root.pre_tokenizer);
    return new ByteLevelBpe({
      vocab,
      merges,
      addedTokens,
      normalization,
      pattern: pre.pattern,
      addPrefixSpace: pre.addPrefixSpace,
      ignoreMerges: model.ignore_merges === true,
    });
  }
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TokenizerError(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function parseVocabObject(v: unknown, what: string): Map<string, number> {
  const o = asObject(v, what);
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(o)) {
    if (!Number.isInteger(id))
      throw new TokenizerError(`${what}: id of ${JSON.stringify(tok)} is not an integer`);
    vocab.set(tok, id as number);
  }
  return vocab;
}

/** HF regexes use inline case-insensitive groups `(?i:...)`, which V8 in Node 20 lacks: expand them. */
export function toJsRegexSource(source: string): string {
  return source.replace(/\(\?i:((?:[^()\\]|\\.)*)\)/g, (_, body: string) => {
    const expanded = body.replace(
      /(\\.)|([A-Za-z])/g,
      (m: string, esc: string | undefined, ch: string | undefined) =>
        esc ? esc : `[${ch!.toLowerCase()}${ch!.toUpperCase()}]`,
    );
    return `(?:${expanded})`;
  });
}

function readPreTokenizer(v: unknown): { pattern: string; addPrefixSpace: boolean } {
  const what = 'tokenizer.json: pre_tokenizer';
  const o = asObject(v, what);
  if (o.type === 'ByteLevel') {
    if (o.use_regex === false)
      throw new TokenizerError(`${what}: a lone ByteLevel with use_regex false is not supported`);
    return { pattern: GPT2_PATTERN, addPrefixSpace: o.add_prefix_space === true };
  }
  if (o.type === 'Sequence' && Array.isArray(o.pretokenizers)) {
    let pattern: string | null = null;
    let addPrefixSpace = false;
    let sawByteLevel = false;
    o.pretokenizers.forEach((p: unknown, i: number) => {
      const q = asObject(p, `${what}.pretokenizers[${i}]`);
      if (q.type === 'Split') {
        const pat = asObject(q.pattern, `${what}.pretokenizers[${i}].pattern`);
        if (typeof pat.Regex !== 'string' || pattern !== null || q.invert === true) {
          throw new TokenizerError(
            `${what}.pretokenizers[${i}]: only one non-inverted Split with a Regex pattern is supported`,
          );
        }
        pattern = toJsRegexSource(pat.Regex);
      } else if (q.type === 'ByteLevel') {
        sawByteLevel = true;
        addPrefixSpace = q.add_prefix_space === true;
        if (q.use_regex !== false && pattern === null) pattern = GPT2_PATTERN;
      } else
        throw new TokenizerError(
          `${what}.pretokenizers[${i}]: type ${JSON.stringify(q.type)} is not supported`,
        );
    });
    if (!sawByteLevel || pattern === null) {
      throw new TokenizerError(`${what}: expected a Split regex and a ByteLevel step (byte-level BPE)`);
    }
    return { pattern, addPrefixSpace };
  }
  throw new TokenizerError(
    `${what}: type ${JSON.stringify(o.type)} is not supported (ByteLevel or Sequence[Split, ByteLevel])`,
  );
}

/** Max-heap of (count, pair key) with ties broken by the smaller key (left id, then right id). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Pops until an entry matches the live count (stale entries are left behind by count changes). */
  popValid(live: Map<number, number>): { count: number; key: number } | null {
    while (this.counts.length > 0) {
      const count = this.counts[0];
      const key = this.keys[0];
      const lastC = this.counts.pop()!;
      const lastK = this.keys.pop()!;
      if (this.counts.length > 0) {
        this.counts[0] = lastC;
        this.keys[0] = lastK;
        this.siftDown(0);
      }
      if (live.get(key) === count) return { count, key };
    }
    return null;
  }

  private before(i: number, j: number): boolean {
    return (
      this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j])
    );
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  private siftDown(i: number): void {
    const n = this.counts.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(l, m)) m = l;
      if (r < n && this.before(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
