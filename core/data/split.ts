// Deterministic splits: every item is ranked by a seeded hash of its stable id, so the same ids and seed
// give the same split on every run and machine, independent of input order.
import { dedupTexts, type DedupOptions, type DedupReport } from './dedup';
import type { LabelledText, Splits, TextDocument } from './types';

/** 32-bit FNV-1a over the UTF-16 code units of `${seed}:${id}`, then a murmur3 finaliser for avalanche. */
export function seededHash(seed: number, id: string): number {
  const s = `${seed}:${id}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Items sorted by (hash, id): the id breaks the rare hash tie so the order is total. */
export function hashOrder<T extends { id: string }>(items: readonly T[], seed: number): T[] {
  const keyed = items.map((it) => ({ it, h: seededHash(seed, it.id) }));
  keyed.sort((a, b) => a.h - b.h || (a.it.id < b.it.id ? -1 : a.it.id > b.it.id ? 1 : 0));
  return keyed.map((k) => k.it);
}

export interface SplitRatios {
  train: number;
  validation: number;
  test: number;
}

function cut<T>(ordered: T[], r: SplitRatios): Splits<T> {
  const total = r.train + r.validation + r.test;
  const n = ordered.length;
  const nTrain = Math.round((n * r.train) / total);
  const nVal = Math.round((n * (r.train + r.validation)) / total) - nTrain;
  return {
    train: ordered.slice(0, nTrain),
    validation: ordered.slice(nTrain, nTrain + nVal),
    test: ordered.slice(nTrain + nVal),
  };
}

/** Documents of a language-modelling corpus, split whole (default 8:1:1). */
export function splitDocuments<T extends TextDocument>(
  docs: readonly T[],
  seed: number,
  ratios: SplitRatios = { train: 8, validation: 1, test: 1 },
): Splits<T> {
  return cut(hashOrder(docs, seed), ratios);
}

/**
 * Class-balanced split (default 6:2:2). The items are first deduplicated (dedup.ts: exact after normalisation
 * and the same normalised prefix; `dedup: false` skips it), so no text sits in two splits. With `balance`, every
 * class is then cut down to the size of the smallest (keeping its lowest-hash items); each class is split on
 * its own, so every split has the same class mix.
 */
export function splitClassBalanced(
  items: readonly LabelledText[],
  numClasses: number,
  seed: number,
  opts: { balance?: boolean; ratios?: SplitRatios; dedup?: DedupOptions | false } = {},
): Splits<LabelledText> & { perClass: number[]; droppedForBalance: number; dedup: DedupReport | null } {
  const ratios = opts.ratios ?? { train: 6, validation: 2, test: 2 };
  const deduped = opts.dedup === false ? null : dedupTexts(items, opts.dedup);
  const byClass: LabelledText[][] = Array.from({ length: numClasses }, () => []);
  for (const it of deduped?.items ?? items) byClass[it.label].push(it);
  const nonEmpty = byClass.filter((c) => c.length > 0);
  const keep = opts.balance === false ? Infinity : Math.min(...nonEmpty.map((c) => c.length));
  const out: Splits<LabelledText> = { train: [], validation: [], test: [] };
  let dropped = 0;
  const perClass: number[] = [];
  for (const members of byClass) {
    const ordered = hashOrder(members, seed);
    const kept = ordered.slice(0, Math.min(keep, ordered.length));
    dropped += ordered.length - kept.length;
    perClass.push(kept.length);
    const s = cut(kept, ratios);
    out.train.push(...s.train);
    out.validation.push(...s.validation);
    out.test.push(...s.test);
  }
  // Interleave classes deterministically rather than leaving them in class blocks.
  for (const k of ['train', 'validation', 'test'] as const) out[k] = hashOrder(out[k], seed + 1);
  return { ...out, perClass, droppedForBalance: dropped, dedup: deduped?.report ?? null };
}
