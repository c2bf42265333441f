import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeUtf8,
  importClassification,
  importClassificationFile,
  importTextCorpus,
  parseDelimited,
} from '../../../core/data/index';

describe('RFC 4180 parsing', () => {
  it('handles quoted delimiters, doubled quotes, embedded CRLF/LF and line numbers', () => {
    const csv = 'text,label\r\n"a, b",x\r\n"she said ""hi""",y\r\n"two\r\nlines\nthree",z\r\nplain,w';
    const { records } = parseDelimited(csv, ',');
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['text', 'label']],
      [2, ['a, b', 'x']],
      [3, ['she said "hi"', 'y']],
      [4, ['two\r\nlines\nthree', 'z']],
      [7, ['plain', 'w']],
    ]);
  });

  it('keeps empty fields and a trailing empty field', () => {
    expect(parseDelimited('a,,b,\n', ',').records[0].fields).toEqual(['a', '', 'b', '']);
  });
});

describe('classification import', () => {
  it('keeps good rows and rejects each bad one with its line number', () => {
    const csv = [
      'id,text,label',
      '1,good one,pos', // 2
      '2,"multi',
      'line text",neg', // 3-4
      '3,too,many,fields', // 5
      '4,,pos', // 6 empty text
      '5,bad "quote" here,neg', // 7
      '',
      '6,"closed" junk,pos', // 9
      '7,no label,', // 10
      '8,last good,neg', // 11
    ].join('\n');
    const r = importClassification(csv, { format: 'csv', textColumn: 'text', labelColumn: 'label' });
    expect(r.examples.map((e) => [e.id, e.text, r.classes[e.label]])).toEqual([
      ['line-2', 'good one', 'pos'],
      ['line-3', 'multi\nline text', 'neg'],
      ['line-11', 'last good', 'neg'],
    ]);
    expect(r.report.rejected.map((x) => x.line)).toEqual([5, 6, 7, 9, 10]);
    expect(r.report.rejected[0].reason).toBe('4 fields, the header has 3');
    expect(r.report.rejected[1].reason).toBe('text is empty');
    expect(r.report.rejected[2].reason).toMatch(/quote inside an unquoted field/);
    expect(r.report.rejected[3].reason).toMatch(/after a closing quote/);
    expect(r.report.rejected[4].reason).toBe('label is missing or empty');
    expect(r.report.kept).toBe(3);
    expect(r.report.blankLines).toBe(1);
  });

  it('reports an unterminated quote with the line it opened on', () => {
    const r = importClassification('text,label\nok,a\n"never closed,b\nmore,c\n', {
      format: 'csv',
      textColumn: 'text',
      labelColumn: 'label',
    });
    expect(r.report.kept).toBe(1);
    expect(r.report.rejected).toEqual([{ line: 3, reason: 'quoted field opened on line 3 is never closed' }]);
  });

  it('refuses a header without the named column, listing the columns', () => {
    expect(() =>
      importClassification('sentence\tlabel\nhi\t1\n', {
        format: 'tsv',
        textColumn: 'text',
        labelColumn: 'label',
      }),
    ).toThrow('header (line 1) has no column "text"; columns: sentence, label');
  });

  it('reads TSV and JSONL, numeric labels as strings, bad JSON lines listed', () => {
    const tsv = importClassification('text\tlabel\nhello\t1\nworld\t0\n', {
      format: 'tsv',
      textColumn: 'text',
      labelColumn: 'label',
    });
    expect(tsv.classes).toEqual(['1', '0']);
    expect(tsv.report.kept).toBe(2);
    const jsonl = [
      '{"text": "a", "y": 1}',
      '{"text": "b", "y": "neg"}',
      '{"text": 3, "y": 1}',
      '{broken',
      '',
      '[1,2]',
      '{"y": 1}',
      '{"text": "c", "y": 0}',
    ].join('\n');
    const j = importClassification(jsonl, { format: 'jsonl', textColumn: 'text', labelColumn: 'y' });
    expect(j.examples.map((e) => e.text)).toEqual(['a', 'b', 'c']);
    expect(j.classes).toEqual(['1', 'neg', '0']);
    expect(j.report.rejected.map((x) => [x.line, x.reason.slice(0, 20)])).toEqual([
      [3, 'text is not a string'],
      [4, 'not valid JSON (Expe'],
      [6, 'not a JSON object'],
      [7, 'no field "text"'],
    ]);
    expect(j.report.blankLines).toBe(1);
  });

  it('accounts for every line: kept + rejected + blank + header = lines', () => {
    const lines = ['text,label'];
    for (let i = 0; i < 50; i++)
      lines.push(i % 7 === 0 ? `x${i},` : i % 11 === 0 ? '' : `"row ${i}",c${i % 3}`);
    const r = importClassification(lines.join('\n'), {
      format: 'csv',
      textColumn: 'text',
      labelColumn: 'label',
    });
    expect(r.report.kept + r.report.rejected.length + r.report.blankLines + 1).toBe(lines.length);
  });

  it('reads files by extension and names the line of invalid UTF-8', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qlab-import-'));
    try {
      const p = join(dir, 'd.csv');
      await writeFile(p, 'text,label\nhéllo,a\n');
      const r = await importClassificationFile(p, { textColumn: 'text', labelColumn: 'label' });
      expect(r.examples[0].text).toBe('héllo');
      await writeFile(
        p,
        Buffer.from([0x74, 0x2c, 0x6c, 0x0a, 0x61, 0x2c, 0x62, 0x0a, 0xff, 0x2c, 0x63, 0x0a]),
      );
      await expect(importClassificationFile(p, { textColumn: 't', labelColumn: 'l' })).rejects.toThrow(
        /line 3 is not valid UTF-8/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(() => decodeUtf8(Uint8Array.of(0x61, 0xc3), 'x.txt')).toThrow(
      'x.txt: line 1 is not valid UTF-8 (bytes 0–1)',
    );
  });
});

describe('plain-text corpus import', () => {
  const text = 'First para\nstill first\n\n\nSecond para\r\n\r\nThird\n';

  it('splits by blank lines with ids from the starting line', () => {
    const r = importTextCorpus(text);
    expect(r.documents).toEqual([
      { id: 'line-1', text: 'First para\nstill first' },
      { id: 'line-5', text: 'Second para' },
      { id: 'line-7', text: 'Third' },
    ]);
    expect(r.report).toEqual({ kept: 3, rejected: [], blankLines: 3 });
  });

  it('splits by lines or keeps the whole text, and reports an empty corpus', () => {
    expect(importTextCorpus(text, { split: 'lines' }).documents.map((d) => d.id)).toEqual([
      'line-1',
      'line-2',
      'line-5',
      'line-7',
    ]);
    expect(importTextCorpus(text, { split: 'whole' }).documents).toHaveLength(1);
    expect(importTextCorpus('\n \n').report.rejected).toEqual([
      { line: 1, reason: 'the corpus has no non-blank text' },
    ]);
  });
});
