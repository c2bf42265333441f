import { describe, expect, it } from 'vitest';
import {
  datasetNames,
  getDataset,
  hashOrder,
  loadBrownTopics,
  seededHash,
  splitClassBalanced,
  splitDocuments,
  stripBrownTags,
  stripMailHeaders,
  type ClassificationDataset,
  type Dataset,
  type LabelledText,
} from '../../../core/data/index';
import { ByteLevelBpe } from '../../../core/nn/tokenizers/bpe';

function ids(d: Dataset): { train: string[]; validation: string[]; test: string[] } {
  return {
    train: d.splits.train.map((x) => x.id),
    validation: d.splits.validation.map((x) => x.id),
    test: d.splits.test.map((x) => x.id),
  };
}

function expectDisjoint(d: Dataset): void {
  const s = ids(d);
  const all = [...s.train, ...s.validation, ...s.test];
  expect(new Set(all).size).toBe(all.length);
}

function classCounts(items: LabelledText[], k: number): number[] {
  const c = new Array(k).fill(0);
  for (const it of items) c[it.label]++;
  return c;
}

function expectBalanced(d: ClassificationDataset): void {
  for (const split of ['train', 'validation', 'test'] as const) {
    const counts = classCounts(d.splits[split], d.classes.length);
    expect(new Set(counts).size, `${split}: ${counts}`).toBe(1);
    expect(counts[0]).toBeGreaterThan(0);
  }
}

describe('seeded splits', () => {
  const docs = Array.from({ length: 103 }, (_, i) => ({ id: `doc-${i}`, text: `t${i}` }));

  it('hash is a pure function of seed and id', () => {
    expect(seededHash(0, 'ca01')).toBe(seededHash(0, 'ca01'));
    expect(seededHash(0, 'ca01')).not.toBe(seededHash(1, 'ca01'));
    expect(seededHash(0, 'ca01')).not.toBe(seededHash(0, 'ca02'));
  });

  it('does not depend on input order, and the seed changes it', () => {
    const a = splitDocuments(docs, 5);
    const b = splitDocuments([...docs].reverse(), 5);
    expect(b).toEqual(a);
    expect(a.train.length + a.validation.length + a.test.length).toBe(103);
    expect([a.train.length, a.validation.length, a.test.length]).toEqual([82, 11, 10]); // round(82.4), round(92.7) − 82
    expect(splitDocuments(docs, 6).test.map((d) => d.id)).not.toEqual(a.test.map((d) => d.id));
  });

  it('class-balanced split cuts every class to the smallest and splits each 6:2:2', () => {
    const items: LabelledText[] = [];
    for (let i = 0; i < 50; i++) items.push({ id: `a${i}`, text: `a text ${i}`, label: 0 });
    for (let i = 0; i < 20; i++) items.push({ id: `b${i}`, text: `b text ${i}`, label: 1 });
    const s = splitClassBalanced(items, 2, 0);
    expect(s.perClass).toEqual([20, 20]);
    expect(s.droppedForBalance).toBe(30);
    expect(classCounts(s.train, 2)).toEqual([12, 12]);
    expect(classCounts(s.validation, 2)).toEqual([4, 4]);
    expect(classCounts(s.test, 2)).toEqual([4, 4]);
    // The kept members of the big class are its lowest-hash ones.
    const keptA = [...s.train, ...s.validation, ...s.test].filter((x) => x.label === 0).map((x) => x.id);
    const expected = hashOrder(
      items.filter((x) => x.label === 0),
      0,
    )
      .slice(0, 20)
      .map((x) => x.id);
    expect(keptA.sort()).toEqual(expected.sort());
  });
});

describe('bundled datasets', () => {
  it('lists known names when asked for an unknown one', () => {
    expect(datasetNames()).toEqual(['brown', 'brown-topics', 'spam-assassin', 'moby-dick']);
    expect(() => getDataset('imdb')).toThrow(
      'unknown dataset "imdb"; known datasets: brown, brown-topics, spam-assassin, moby-dick',
    );
  });

  it('Brown LM: 500 documents, tags stripped, 8:1:1 by document, disjoint', () => {
    const d = getDataset('brown');
    expect(d.kind).toBe('lm');
    const s = ids(d);
    expect([s.train.length, s.validation.length, s.test.length]).toEqual([400, 50, 50]);
    expectDisjoint(d);
    for (const doc of [...d.splits.train, ...d.splits.test]) {
      expect(doc.text).not.toMatch(/\w\/(at|nn|vbd|in|jj|np)\b/);
      expect(doc.text).not.toMatch(/(^|\s)(``|'')(\s|$)/); // 10'' (inches) is real text
    }
  });

  it('Brown topics: 4 balanced classes of 80 documents, 48/16/16 per class, stable across loads', () => {
    const d = getDataset('brown-topics') as ClassificationDataset;
    expect(d.classes).toEqual(['press', 'fiction', 'learned', 'hobbies-lore']);
    expectBalanced(d);
    expect(classCounts(d.splits.train, 4)).toEqual([48, 48, 48, 48]);
    expectDisjoint(d);
    const press = new Set(['a', 'b', 'c']);
    for (const x of d.splits.train) if (x.label === 0) expect(press.has(x.id[1])).toBe(true);
    // A fresh load (no registry cache) gives the same split.
    expect(ids(loadBrownTopics())).toEqual(ids(d));
    const other = loadBrownTopics({ seed: 1 });
    expect(ids(other).test).not.toEqual(ids(d).test);
  });

  it('SpamAssassin: headers stripped, ham/spam balanced, disjoint', () => {
    const d = getDataset('spam-assassin') as ClassificationDataset;
    expect(d.classes).toEqual(['ham', 'spam']);
    expectBalanced(d);
    expectDisjoint(d);
    const all = [...d.splits.train, ...d.splits.validation, ...d.splits.test];
    // the smaller class after deduplication (dedup.ts): 1,396 spam messages less their duplicates
    expect(all.length).toBe(2 * 1425);
    expect(d.dedup!.before).toBe(6046);
    const headerLike = all.filter((x) => /^(Return-Path|Received|Delivered-To|Message-Id):/i.test(x.text));
    expect(headerLike.length).toBe(0);
  });

  it('Moby Dick: chapters as documents, table of contents left out, disjoint', () => {
    const d = getDataset('moby-dick');
    const s = ids(d);
    const all = [...s.train, ...s.validation, ...s.test];
    expect(all).toContain('chapter_1');
    expect(all).toContain('epilogue');
    expect(all).not.toContain('contents');
    expect(all.length).toBe(138);
    expectDisjoint(d);
  });

  it('a BPE trained on Brown round-trips Moby Dick test chapters', () => {
    const brown = getDataset('brown')
      .splits.train.slice(0, 40)
      .map((x) => x.text);
    const t = ByteLevelBpe.train(brown, { vocabSize: 600 });
    for (const doc of getDataset('moby-dick').splits.test)
      expect(t.decode(t.encode(doc.text))).toBe(doc.text);
  });
});

describe('cleaning', () => {
  it('strips Brown tags and re-joins punctuation and quotes', () => {
    const raw =
      "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, it/pps did/dod ./.\n\n\n\tNext/ap para/nn ./.\n";
    expect(stripBrownTags(raw)).toBe('The jury said "no evidence", it did.\nNext para.');
  });

  it('strips mail headers up to the first blank line only', () => {
    expect(stripMailHeaders('From: a\r\nSubject: b\r\n\r\nHello\n\nWorld')).toBe('Hello\n\nWorld');
    expect(stripMailHeaders('From: a\nno body')).toBe('');
    expect(stripMailHeaders('From: a\n\nReturn-Path: <x>\nReceived: y\n\nInner body')).toBe('Inner body');
  });
});
