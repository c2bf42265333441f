import { describe, expect, it } from 'vitest';
import {
  dedupTexts,
  excludeHeldOut,
  getDataset,
  normaliseText,
  overlapTotal,
  splitClassBalanced,
  splitOverlap,
  type ClassificationDataset,
  type LabelledText,
} from '../../../core/data/index';

const base: LabelledText[] = Array.from({ length: 60 }, (_, i) => ({
  id: `m${String(i).padStart(3, '0')}`,
  text: `message number ${i} about topic ${i % 7} with words ${'x'.repeat(i)}`,
  label: i % 2,
}));

describe('deduplication before the split', () => {
  it('normalises case, width and whitespace', () => {
    expect(normaliseText('  Hello\n\tWORLD ')).toBe('hello world');
    expect(normaliseText('ＡＢＣ')).toBe('abc');
  });

  it('a split with planted duplicates loses them and reports the count', () => {
    const exactCopies = [3, 10, 17, 24, 31].map((i) => ({
      ...base[i],
      id: `z-copy-${i}`,
      text: `  ${base[i].text.toUpperCase()}\n`,
    }));
    const longA = 'A'.repeat(400);
    const near = [
      { id: 'near-a', text: `${longA} tail one`, label: 0 },
      { id: 'near-b', text: `${longA} tail two`, label: 1 },
    ];
    const items = [...base, ...exactCopies, ...near];
    const s = splitClassBalanced(items, 2, 0, { balance: false });
    expect(s.dedup).toMatchObject({ before: 67, kept: 61, exact: 5, nearPrefix: 1, conflictingLabels: 1 });
    const all = [...s.train, ...s.validation, ...s.test];
    expect(all).toHaveLength(61);
    expect(all.some((x) => x.id.startsWith('z-copy-'))).toBe(false);
    expect(all.filter((x) => x.id.startsWith('near-')).map((x) => x.id)).toEqual(['near-a']);
    expect(overlapTotal(splitOverlap(s))).toBe(0);
    // without deduplication the planted copies can land in two splits, and the check sees them
    const raw = splitClassBalanced(items, 2, 0, { balance: false, dedup: false });
    expect(raw.dedup).toBeNull();
    const o = splitOverlap(raw);
    const within = [raw.train, raw.validation, raw.test].reduce(
      (a, sp) => a + sp.length - new Set(sp.map((x) => normaliseText(x.text))).size,
      0,
    );
    expect(overlapTotal(o) + within).toBe(5);
  });

  it('keeps the smallest id whatever the input order', () => {
    const items = [
      { id: 'b', text: 'same', label: 0 },
      { id: 'a', text: 'Same', label: 0 },
    ];
    expect(dedupTexts(items).items.map((x) => x.id)).toEqual(['a']);
    expect(dedupTexts([...items].reverse()).items.map((x) => x.id)).toEqual(['a']);
  });

  it('the prefix rule can be turned off', () => {
    const items = [
      { id: 'a', text: 'x'.repeat(500) + '1', label: 0 },
      { id: 'b', text: 'x'.repeat(500) + '2', label: 0 },
    ];
    expect(dedupTexts(items).report.nearPrefix).toBe(1);
    expect(dedupTexts(items, { prefixChars: 0 }).items).toHaveLength(2);
  });

  it('bundled SpamAssassin is deduplicated: no text in two splits', () => {
    const d = getDataset('spam-assassin') as ClassificationDataset;
    expect(d.dedup!.exact).toBeGreaterThan(100);
    expect(d.dedup!.nearPrefix).toBeGreaterThan(100);
    const o = splitOverlap(d.splits);
    expect(overlapTotal(o)).toBe(0);
    expect(overlapTotal(o, 'nearPrefix')).toBe(0);
  });
});

describe('pretraining corpora leave out the evaluation documents', () => {
  it('drops held-out documents by id and by normalised text', () => {
    const corpus = [
      { id: 'ca01', text: 'The jury said.' },
      { id: 'ca02', text: 'Another  DOC here' },
      { id: 'ca03', text: 'kept' },
    ];
    const r = excludeHeldOut(corpus, [
      { id: 'ca01', text: 'whatever' },
      { id: 'x', text: 'another doc here' },
    ]);
    expect(r.docs.map((d) => d.id)).toEqual(['ca03']);
    expect(r.excluded).toBe(2);
  });

  it('Brown pretraining text shares no document with the brown-topics validation and test splits', () => {
    const brown = getDataset('brown');
    const topics = getDataset('brown-topics') as ClassificationDataset;
    const heldOut = [...topics.splits.validation, ...topics.splits.test];
    const before = brown.splits.train.filter((d) => heldOut.some((h) => h.id === d.id)).length;
    expect(before).toBeGreaterThan(50); // the audit's 17 + 62 of the held-out documents are in Brown's train split
    const r = excludeHeldOut(brown.splits.train, heldOut);
    expect(r.excluded).toBe(before);
    expect(r.docs.some((d) => heldOut.some((h) => h.id === d.id))).toBe(false);
  });
});
