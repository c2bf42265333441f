// Issue 13, "one rule" for byte-order marks: every text file the lab reads — run configs, QASM, tokenizer.json,
// vocab.json/merges.txt, token files, a model's config.json, dataset files, settings.json — accepts a leading
// UTF-8 BOM and drops it (core/util/text.ts), and refuses a UTF-16/UTF-32 one by name. Each case is read with
// and without the BOM and must give the same result.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunFile } from '../../../core/cli/config-file';
import { readInputFile } from '../../../core/cli/read-file';
import { decodeUtf8, importClassification, parseDelimited } from '../../../core/data/import';
import { readSettings } from '../../../core/lab/file-roots';
import { buildModel, loadModelDir, saveModelDir, specFromHfConfig } from '../../../core/nn/checkpoint';
import { ByteLevelBpe, CharTokenizer, tokenizerFromJson } from '../../../core/nn/tokenizers';
import { parseQasm } from '../../../core/quantum/qasm';
import { decodeUtf8Text, stripBom, TextDecodeError } from '../../../core/util/text';

const BOM = '\ufeff';
const dir = mkdtempSync(join(tmpdir(), 'qlab-bom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('core/util/text', () => {
  it('drops one leading UTF-8 BOM, keeps a second, refuses UTF-16/32 and bad UTF-8', () => {
    expect(decodeUtf8Text(Buffer.from(`${BOM}{"a":1}`))).toBe('{"a":1}');
    expect(decodeUtf8Text(Buffer.from(`${BOM}${BOM}x`))).toBe(`${BOM}x`);
    expect(decodeUtf8Text(Buffer.from('x'))).toBe('x');
    expect(stripBom(`${BOM}x`)).toBe('x');
    expect(() => decodeUtf8Text(Buffer.from('\ufeff{}', 'utf16le'))).toThrow(
      new TextDecodeError('is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8'),
    );
    expect(() => decodeUtf8Text(Buffer.from([0xfe, 0xff, 0, 0x7b]))).toThrow(/UTF-16/);
    expect(() => decodeUtf8Text(Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0]))).toThrow(/UTF-32/);
    expect(() => decodeUtf8Text(Buffer.from([0x7b, 0xc3, 0x28]))).toThrow('is not valid UTF-8');
  });
});

describe('every text file the lab reads', () => {
  it('run configs and token files (the CLI reader)', () => {
    const cfg = '{"kind":"vqc-fit","config":{"qubits":2}}';
    expect(readRunFile(file('bom.json', BOM + cfg))).toEqual(readRunFile(file('plain.json', cfg)));
    expect(readInputFile(file('tokens.json', `${BOM}[1, 2, 3]`), 'token file')).toBe('[1, 2, 3]');
    expect(() => readInputFile(file('u16.json', Buffer.from(`${BOM}[1]`, 'utf16le')), 'token file')).toThrow(
      `token file ${join(dir, 'u16.json')} is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8`,
    );
  });

  it('QASM', () => {
    const q = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n';
    expect(parseQasm(BOM + q)).toEqual(parseQasm(q));
  });

  it('tokenizer.json, vocab.json and merges.txt', () => {
    const char = CharTokenizer.train(['hello world']).toJson();
    expect(tokenizerFromJson(BOM + char).encode('hello')).toEqual(tokenizerFromJson(char).encode('hello'));
    expect(CharTokenizer.fromJson(BOM + char).vocabSize).toBe(CharTokenizer.fromJson(char).vocabSize);
    const bpe = ByteLevelBpe.train(['low lower lowest'], { vocabSize: 270 });
    const json = bpe.toTokenizerJson();
    expect(tokenizerFromJson(BOM + json).encode('lowest')).toEqual(bpe.encode('lowest'));
    expect(ByteLevelBpe.fromTokenizerJson(BOM + json).encode('lower')).toEqual(bpe.encode('lower'));
    const model = (JSON.parse(json) as { model: { vocab: unknown; merges: string[] } }).model;
    const vocab = JSON.stringify(model.vocab);
    const merges = `#version: 0.2\n${model.merges.join('\n')}\n`;
    const marked = ByteLevelBpe.fromVocabMerges(BOM + vocab, BOM + merges);
    expect(marked.encode('lowest')).toEqual(ByteLevelBpe.fromVocabMerges(vocab, merges).encode('lowest'));
    expect(marked.encode('lowest')).toEqual(bpe.encode('lowest'));
  });

  it("a model directory's config.json and tokenizer.json", async () => {
    const cfg = {
      model_type: 'llama',
      vocab_size: 13,
      hidden_size: 8,
      intermediate_size: 12,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      rms_norm_eps: 1e-6,
      rope_theta: 500,
      tie_word_embeddings: false,
      max_position_embeddings: 16,
    };
    const m = buildModel(specFromHfConfig(cfg), { seed: 3 });
    const md = join(dir, 'model');
    await saveModelDir(md, m, { tokenizer: CharTokenizer.train(['abcdef']) });
    for (const f of ['config.json', 'tokenizer.json'])
      writeFileSync(join(md, f), BOM + readFileSync(join(md, f), 'utf8'));
    const loaded = await loadModelDir(md);
    expect(loaded.tokenizerIssue).toBeNull();
    expect(loaded.tokenizer?.encode('abc')).toEqual(CharTokenizer.train(['abcdef']).encode('abc'));
    expect(loaded.spec.config.vocabSize).toBe(13);
  });

  it('dataset files and settings.json', () => {
    const csv = 'text,label\nhello,a\nworld,b\n';
    const opts = { format: 'csv', textColumn: 'text', labelColumn: 'label' } as const;
    expect(importClassification(decodeUtf8(Buffer.from(BOM + csv)), opts)).toEqual(
      importClassification(csv, opts),
    );
    expect(parseDelimited(BOM + csv, ',')).toEqual(parseDelimited(csv, ','));
    expect(() => decodeUtf8(Buffer.from(BOM + csv, 'utf16le'), 'data.csv')).toThrow(
      'data.csv is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8',
    );
    const lab = mkdtempSync(join(dir, 'lab-'));
    writeFileSync(join(lab, 'settings.json'), `${BOM}{"fileRoots":["/data"]}`);
    expect(readSettings(lab).fileRoots).toEqual(['/data']);
  });
});
