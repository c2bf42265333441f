// Deduplication before a split, and the check that a split has no text in two of its parts. Two texts are
// duplicates when their normalised forms are equal (exact), or when they share the first `prefixChars`
// normalised characters (near: a model that sees the start of a text cannot tell them apart). Normalised:
// Unicode NFKC, lower case, every run of whitespace one space, trimmed. Isomorphic (no Node imports).
import type { Splits, TextDocument } from './types';

/** Normalised prefix length of the near-duplicate rule (the audit's 300 characters, about 64–80 tokens). */
export const DEDUP_PREFIX_CHARS = 300;

export interface DedupOptions {
  /** Texts sharing this many normalised leading characters are near-duplicates; 0 turns the rule off. */
  prefixChars?: number;
}

export interface DedupReport {
  /** Items before and after. */
  before: number;
  kept: number;
  /** Dropped as an exact (normalised) copy of a kept item. */
  exact: number;
  /** Dropped as a near-duplicate: the same first `prefixChars` normalised characters as a kept item. */
  nearPrefix: number;
  /** Of the dropped, how many carried another label than the item kept (their label is lost). */
  conflictingLabels: number;
  /** Dropped as empty after normalisation. */
  empty: number;
  prefixChars: number;
  /** The rule in one sentence for reports. */
  rule: string;
}

export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function dedupRule(prefixChars: number): string {
  const near =
    prefixChars > 0 ? `, and near-duplicates (the same first ${prefixChars} normalised characters)` : '';
  return `exact duplicates after normalisation (NFKC, lower case, whitespace collapsed)${near} are dropped before the split, keeping the item with the smallest id`;
}

/**
 * Keeps the first item (in id order, so the result does not depend on input order) of every group of
 * duplicates; returns the kept items in their input order and what was dropped.
 */
export function dedupTexts<T extends TextDocument & { label?: number }>(
  items: readonly T[],
  opts: DedupOptions = {},
): { items: T[]; report: DedupReport } {
  const prefixChars = opts.prefixChars ?? DEDUP_PREFIX_CHARS;
  const byId = items
    .map((it, i) => ({ it, i }))
    .sort((a, b) => (a.it.id < b.it.id ? -1 : a.it.id > b.it.id ? 1 : a.i - b.i));
  const exactSeen = new Map<string, T>();
  const prefixSeen = new Map<string, T>();
  const keep = new Uint8Array(items.length);
  let exact = 0;
  let nearPrefix = 0;
  let conflictingLabels = 0;
  let empty = 0;
  for (const { it, i } of byId) {
    const norm = normaliseText(it.text);
    if (norm.length === 0) {
      empty++;
      continue;
    }
    const prefix = prefixChars > 0 ? norm.slice(0, prefixChars) : null;
    const twin = exactSeen.get(norm) ?? (prefix !== null ? prefixSeen.get(prefix) : undefined);
    if (twin) {
      if (exactSeen.has(norm)) exact++;
      else nearPrefix++;
      if (twin.label !== it.label) conflictingLabels++;
      continue;
    }
    exactSeen.set(norm, it);
    if (prefix !== null) prefixSeen.set(prefix, it);
    keep[i] = 1;
  }
  const kept = items.filter((_, i) => keep[i] === 1);
  return {
    items: kept,
    report: {
      before: items.length,
      kept: kept.length,
      exact,
      nearPrefix,
      conflictingLabels,
      empty,
      prefixChars,
      rule: dedupRule(prefixChars),
    },
  };
}

/** "dropped 73 of 3,052 (56 exact, 17 near: same first 300 characters; 2 with another label)". */
export function describeDedup(r: DedupReport): string {
  const dropped = r.before - r.kept;
  const parts = [`${r.exact} exact`];
  if (r.prefixChars > 0)
    parts.push(`${r.nearPrefix} near (same first ${r.prefixChars} normalised characters)`);
  if (r.empty) parts.push(`${r.empty} empty`);
  const conflict = r.conflictingLabels ? `; ${r.conflictingLabels} of them with another label` : '';
  return `deduplicated before the split: dropped ${dropped} of ${r.before} (${parts.join(', ')}${conflict})`;
}

export interface SplitOverlap {
  /** Pairs of splits with the number of items of the second whose normalised text equals an item of the first. */
  exact: { train_validation: number; train_test: number; validation_test: number };
  /** The same with equal normalised prefixes of `prefixChars` (includes the exact ones). */
  nearPrefix: { train_validation: number; train_test: number; validation_test: number };
  /** Items whose id appears in two splits. */
  sharedIds: number;
  prefixChars: number;
}

/** Counts texts of one split that also occur (exactly, or by prefix) in an earlier split. */
export function splitOverlap<T extends TextDocument>(
  splits: Splits<T>,
  prefixChars = DEDUP_PREFIX_CHARS,
): SplitOverlap {
  const norm = {
    train: splits.train.map((d) => normaliseText(d.text)),
    validation: splits.validation.map((d) => normaliseText(d.text)),
    test: splits.test.map((d) => normaliseText(d.text)),
  };
  const count = (a: string[], b: string[], cut: (s: string) => string) => {
    const seen = new Set(a.map(cut));
    return b.filter((s) => seen.has(cut(s))).length;
  };
  const pairs = (cut: (s: string) => string) => ({
    train_validation: count(norm.train, norm.validation, cut),
    train_test: count(norm.train, norm.test, cut),
    validation_test: count(norm.validation, norm.test, cut),
  });
  const ids = new Map<string, number>();
  for (const s of [splits.train, splits.validation, splits.test])
    for (const id of new Set(s.map((d) => d.id))) ids.set(id, (ids.get(id) ?? 0) + 1);
  return {
    exact: pairs((s) => s),
    nearPrefix: pairs((s) => (prefixChars > 0 ? s.slice(0, prefixChars) : s)),
    sharedIds: [...ids.values()].filter((n) => n > 1).length,
    prefixChars,
  };
}

/** Exact cross-split duplicates in total (0 on a deduplicated split). */
export function overlapTotal(o: SplitOverlap, which: 'exact' | 'nearPrefix' = 'exact'): number {
  const p = o[which];
  return p.train_validation + p.train_test + p.validation_test;
}

export function describeOverlap(o: SplitOverlap): string {
  const e = o.exact;
  const n = o.nearPrefix;
  return `split-overlap check: exact duplicates across splits train∩validation ${e.train_validation}, train∩test ${e.train_test}, validation∩test ${e.validation_test}; same first ${o.prefixChars} normalised characters ${n.train_validation}, ${n.train_test}, ${n.validation_test}; ids in two splits ${o.sharedIds}`;
}

/**
 * A pretraining corpus without any document of a downstream evaluation split: a document is left out when
 * its id is one of `heldOut`'s ids (the Brown files behind brown-topics) or its first `prefixChars`
 * normalised characters equal a held-out text's.
 */
export function excludeHeldOut<T extends TextDocument>(
  docs: readonly T[],
  heldOut: readonly TextDocument[],
  prefixChars = DEDUP_PREFIX_CHARS,
): { docs: T[]; excluded: number } {
  const ids = new Set(heldOut.map((d) => d.id));
  const cut = (t: string) => normaliseText(t).slice(0, prefixChars);
  const prefixes = new Set(heldOut.map((d) => cut(d.text)));
  const kept = docs.filter((d) => !ids.has(d.id) && !prefixes.has(cut(d.text)));
  return { docs: kept, excluded: docs.length - kept.length };
}
