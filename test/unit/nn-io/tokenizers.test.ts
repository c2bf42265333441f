import { describe, expect, it } from 'vitest';
import { byteChar, bytesToUnicode, charByte } from '../../../core/nn/tokenizers/byte-unicode';
import {
  ByteLevelBpe,
  CharTokenizer,
  GPT2_PATTERN,
  tokenizerFromJson,
  toJsRegexSource,
} from '../../../core/nn/tokenizers/index';

const CORPUS = [
  'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.',
  "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse.',
  'Numbers like 1234 and 56.78 appear, as do symbols: @#$%^&*()!\n\nNew paragraph\twith tabs.',
  '日本語のテキストも少し。中文也有一点。한국어도 조금. Ελληνικά και русский текст.',
];

/** Deterministic pseudo-random generator for test strings. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomString(rand: () => number, len: number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0xa0, 0x2ff],
    [0x300, 0x36f], // combining marks
    [0x4e00, 0x9fff], // CJK
    [0x1f300, 0x1faff], // emoji
    [0xd800, 0xdfff], // lone surrogates
    [0x10000, 0x10ffff],
  ];
  let s = '';
  for (let i = 0; i < len; i++) {
    const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
  }
  return s;
}

/** Lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, which the ES2023 lib lacks). */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

describe('GPT-2 byte ↔ unicode map', () => {
  it('matches the published GPT-2 table at its landmarks and is a bijection', () => {
    expect(byteChar(0x20)).toBe('Ġ');
    expect(byteChar(0x0a)).toBe('Ċ');
    expect(byteChar(0x00)).toBe('Ā');
    expect(byteChar(0x41)).toBe('A');
    expect(byteChar(0xad)).toBe('Ń');
    expect(byteChar(0xff)).toBe('ÿ');
    const seen = new Set<string>();
    for (let b = 0; b < 256; b++) {
      seen.add(byteChar(b));
      expect(charByte(byteChar(b))).toBe(b);
    }
    expect(seen.size).toBe(256);
    expect(bytesToUnicode(new TextEncoder().encode(' é'))).toBe('ĠÃ©');
  });
});

describe('pre-tokenisation', () => {
  it('splits like GPT-2: contractions, leading spaces, trailing whitespace runs', () => {
    const t = ByteLevelBpe.train([], { vocabSize: 256 });
    expect(t.pretokenize("Hello world's  test 123!!\n")).toEqual([
      'Hello',
      ' world',
      "'s",
      ' ',
      ' test',
      ' 123',
      '!!',
      '\n',
    ]);
  });

  it('expands inline case-insensitive groups of HF regexes for V8', () => {
    const src = toJsRegexSource(String.raw`(?i:'s|'t|'re)|\p{L}+`);
    expect(src).toBe(String.raw`(?:'[sS]|'[tT]|'[rR][eE])|\p{L}+`);
    expect("IT'S".match(new RegExp(src, 'gu'))).toEqual(['IT', "'S"]);
  });
});

/** A GPT-2-format tokenizer.json written by hand: byte tokens in byte order, three merges, one added token. */
function handTokenizerJson(): string {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[byteChar(b)] = b;
  vocab['he'] = 256;
  vocab['Ġt'] = 257;
  vocab['Ġthe'] = 258;
  vocab['<|endoftext|>'] = 259;
  return JSON.stringify({
    version: '1.0',
    added_tokens: [{ id: 259, content: '<|endoftext|>', special: true, single_word: false }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: ['h e', 'Ġ t', 'Ġt he'] },
  });
}

describe('byte-level BPE from tokenizer.json', () => {
  it('applies merges in rank order and matches added tokens verbatim', () => {
    const t = ByteLevelBpe.fromTokenizerJson(handTokenizerJson());
    expect(t.vocabSize).toBe(260);
    expect(t.encode(' the')).toEqual([258]);
    expect(t.encode('the')).toEqual([116, 256]); // "t h" is no merge; "h e" is
    expect(t.encode(' the<|endoftext|> the')).toEqual([258, 259, 258]);
    expect(t.encode(' tthe')).toEqual([257, 116, 256]);
    expect(t.decode([258, 259, 258])).toBe(' the<|endoftext|> the');
    expect(t.decode([258, 259], { skipSpecial: true })).toBe(' the');
  });

  it('reads merges given as [left, right] arrays too', () => {
    const doc = JSON.parse(handTokenizerJson());
    doc.model.merges = [
      ['h', 'e'],
      ['Ġ', 't'],
      ['Ġt', 'he'],
    ];
    expect(ByteLevelBpe.fromTokenizerJson(JSON.stringify(doc)).encode(' the')).toEqual([258]);
  });

  it('refuses unsupported or broken files with the field named', () => {
    const doc = JSON.parse(handTokenizerJson());
    expect(() =>
      ByteLevelBpe.fromTokenizerJson(JSON.stringify({ ...doc, model: { ...doc.model, type: 'Unigram' } })),
    ).toThrow(/model\.type is "Unigram"/);
    const badMerge = { ...doc, model: { ...doc.model, merges: ['h e', 'x yz'] } };
    expect(() => ByteLevelBpe.fromTokenizerJson(JSON.stringify(badMerge))).toThrow(
      /merge 2 \("x yz"\): token "yz"/,
    );
    const noBytes = { ...doc, model: { ...doc.model, vocab: { a: 0 }, merges: [] } };
    expect(() => ByteLevelBpe.fromTokenizerJson(JSON.stringify(noBytes))).toThrow(
      /lacks the byte-level token for byte 0x00/,
    );
    expect(() => ByteLevelBpe.fromTokenizerJson('{"model": ')).toThrow(/not valid JSON/);
    const t = ByteLevelBpe.fromTokenizerJson(handTokenizerJson());
    expect(() => t.decode([1, 5000])).toThrow(/id 5000 at position 1/);
  });

  it('reads a Qwen2-style Sequence[Split, ByteLevel] pre-tokenizer with NFC', () => {
    const doc = JSON.parse(handTokenizerJson());
    doc.normalizer = { type: 'NFC' };
    doc.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: {
            Regex: String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
          },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    };
    const t = ByteLevelBpe.fromTokenizerJson(JSON.stringify(doc));
    expect(t.pretokenize("HE'LL 123")).toEqual(['HE', "'LL", ' ', '1', '2', '3']);
    // NFC: "e" + combining acute becomes the single code point é before bytes are taken.
    expect(t.encode('e\u0301')).toEqual(t.encode('\u00e9'));
  });
});

describe('byte-level BPE training', () => {
  it('learns the merges worked out by hand, ties broken by the smaller ids', () => {
    const t = ByteLevelBpe.train(['ab ab ab cd'], { vocabSize: 260, minFrequency: 1 });
    expect(t.merges).toEqual([
      ['a', 'b'],
      ['Ġ', 'ab'],
      ['Ġ', 'c'],
      ['Ġc', 'd'],
    ]);
    expect(t.encode('ab ab ab cd')).toEqual([256, 257, 257, 259]);
  });

  it('stops at minFrequency and reaches the target size with special tokens last', () => {
    const t = ByteLevelBpe.train(CORPUS, { vocabSize: 300, specialTokens: ['<|endoftext|>', '<pad>'] });
    expect(t.vocabSize).toBe(300);
    expect(t.tokenToId('<|endoftext|>')).toBe(298);
    expect(t.tokenToId('<pad>')).toBe(299);
    const rare = ByteLevelBpe.train(['xyz'], { vocabSize: 1000 });
    expect(rare.merges.length).toBe(0); // every pair occurs once < minFrequency 2
  });

  it('is deterministic: two trainings give identical files', () => {
    const a = ByteLevelBpe.train(CORPUS, { vocabSize: 400 });
    const b = ByteLevelBpe.train([...CORPUS], { vocabSize: 400 });
    expect(a.toMergesTxt()).toBe(b.toMergesTxt());
    expect(a.toVocabJson()).toBe(b.toVocabJson());
  });

  it('compresses its training text and round-trips it', () => {
    const t = ByteLevelBpe.train(CORPUS, { vocabSize: 500 });
    for (const s of CORPUS) {
      const ids = t.encode(s);
      expect(ids.length).toBeLessThan(new TextEncoder().encode(s).length);
      expect(t.decode(ids)).toBe(s);
    }
  });

  it('round-trips arbitrary UTF-8: emoji, CJK, combining marks, controls; lone surrogates become U+FFFD', () => {
    const t = ByteLevelBpe.train(CORPUS, { vocabSize: 450, specialTokens: ['<|endoftext|>'] });
    const fixed = [
      '👩‍👩‍👧‍👦 family, 🇯🇵 flag, 👍🏽',
      '漢字かなカナ한글',
      'a\u0301e\u0300o\u0308\u0323 Zalgo: Z\u0351\u0364\u036b',
      'مرحبا بالعالم עברית',
      '\u0000\u0001\r\n\t\u007f\u0085\u2028',
      '   leading and trailing   ',
      '',
    ];
    for (const s of fixed) expect(t.decode(t.encode(s))).toBe(s);
    const lone = 'x\ud800y\udfffz';
    expect(t.decode(t.encode(lone))).toBe('x\ufffdy\ufffdz');
    const rand = lcg(42);
    for (let i = 0; i < 200; i++) {
      const s = randomString(rand, 1 + Math.floor(rand() * 40));
      expect(t.decode(t.encode(s))).toBe(wellFormed(s));
    }
  });

  it('saves and loads as vocab.json + merges.txt and as tokenizer.json with identical encodings', () => {
    const t = ByteLevelBpe.train(CORPUS, { vocabSize: 420, specialTokens: ['<|endoftext|>'] });
    const fromFiles = ByteLevelBpe.fromVocabMerges(t.toVocabJson(), t.toMergesTxt(), {
      specialTokens: ['<|endoftext|>'],
    });
    const fromJson = tokenizerFromJson(t.toTokenizerJson());
    const text = CORPUS.join('<|endoftext|>') + ' unseen wörds 🙂';
    const ids = t.encode(text);
    expect(fromFiles.encode(text)).toEqual(ids);
    expect(fromJson.encode(text)).toEqual(ids);
    expect(fromJson.decode(ids)).toBe(text);
    expect(fromJson.vocabSize).toBe(t.vocabSize);
    expect(() => ByteLevelBpe.fromVocabMerges(t.toVocabJson(), '#version: 0.2\na b\nbroken\n')).toThrow(
      /merges\.txt line 3/,
    );
  });

  it('encodes within a small factor of a byte-copy peer over the same text', () => {
    // an absolute MB/s threshold failed under load (0.77 MB/s against 1 MB/s on the shared 2-core machine); the
    // peer, timed alternately with encode in this test, is TextEncoder over the same text with every byte pushed
    // into a number[] (the output encode builds, so both see the same array growth and GC); fastest of 5 each
    const t = ByteLevelBpe.train(CORPUS, { vocabSize: 500 });
    const text = CORPUS.join(' ').repeat(400); // ~200 KB
    expect(t.decode(t.encode(text))).toBe(text);
    const utf8 = new TextEncoder();
    let enc = Infinity;
    let peer = Infinity;
    for (let r = 0; r < 5; r++) {
      let t0 = performance.now();
      const ids = t.encode(text);
      enc = Math.min(enc, performance.now() - t0);
      t0 = performance.now();
      const u = utf8.encode(text);
      const bytes: number[] = [];
      for (let i = 0; i < u.length; i++) bytes.push(u[i]);
      peer = Math.min(peer, performance.now() - t0);
      expect(ids.length).toBeLessThan(bytes.length); // merges happened
    }
    // measured 0.65–1.9× the peer here under load (a gross slowdown, not the per-piece cache, is what this catches)
    expect(enc).toBeLessThan(5 * peer);
  });

  it('uses GPT-2’s pattern by default', () => {
    expect(ByteLevelBpe.train([], { vocabSize: 256 }).pattern).toBe(GPT2_PATTERN);
  });
});

describe('character tokenizer', () => {
  it('round-trips text made of seen characters, code points not UTF-16 units', () => {
    const t = CharTokenizer.train(['héllo 👋 wörld', '漢字']);
    expect(t.idToToken(0)).toBe('<unk>');
    const s = 'wö 👋 漢';
    const ids = t.encode(s);
    expect(ids.length).toBe([...s].length);
    expect(t.decode(ids)).toBe(s);
  });

  it('maps unseen characters to <unk> or refuses them with the offset', () => {
    const t = CharTokenizer.train(['abc']);
    expect(t.encode('abz')).toEqual([t.tokenToId('a'), t.tokenToId('b'), t.unkId]);
    const strict = CharTokenizer.train(['abc'], { unknown: 'error' });
    expect(() => strict.encode('ab😀')).toThrow(/U\+1F600 at offset 2/);
  });

  it('assigns ids by code point, specials first, and saves/loads', () => {
    const t = CharTokenizer.train(['cab', 'bca'], { specialTokens: ['<unk>', '<pad>'] });
    expect([...Array(t.vocabSize).keys()].map((i) => t.idToToken(i))).toEqual([
      '<unk>',
      '<pad>',
      'a',
      'b',
      'c',
    ]);
    const back = tokenizerFromJson(t.toJson());
    expect(back.encode('cab?')).toEqual(t.encode('cab?'));
    expect(() => CharTokenizer.fromJson('{"type":"char","tokens":[1],"unknown":"map"}')).toThrow(
      /tokens must be an array/,
    );
  });
});
