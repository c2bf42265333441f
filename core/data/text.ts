// Labelled text for the classification methods: a bundled dataset by name or the user's CSV/TSV/JSONL file,
// split 6:2:2 class-balanced (core/data), optionally cut to a number of samples per class.
import { existsSync, statSync } from 'node:fs';
import {
  getDataset,
  importClassificationFile,
  splitClassBalanced,
  splitOverlap,
  type DedupReport,
  type LabelledText,
  type SplitOverlap,
  type Splits,
} from './index';
import { datasetNameProblem, FILE_DATASET, SPLIT_NAMES, type SplitName } from './names';

export interface TextDataConfig {
  dataset: string;
  textColumn: string;
  labelColumn: string;
  /** Seed of the split (kept apart from the run seed so every run of a study sees the same split). */
  dataSeed: number;
  /** Keep at most this many samples per class in total (6:2:2 across the splits); null keeps all. */
  samplesPerClass: number | null;
}

export interface TextData {
  /** Stable identity of the data for cache keys: name or path with size and mtime, and the cut. */
  id: string;
  classes: string[];
  splits: Splits<LabelledText>;
  /** What deduplication before the split dropped (null: the data was not deduplicated). */
  dedup: DedupReport | null;
  /** The split-overlap check of the splits as used (after any cut). */
  overlap: SplitOverlap;
}

const RATIO: Record<SplitName, number> = { train: 0.6, validation: 0.2, test: 0.2 };

/** Each split keeps its first round(k·ratio) items of every class (splits are already in seeded hash order). */
export function cutPerClass(
  splits: Splits<LabelledText>,
  classes: number,
  samplesPerClass: number,
): Splits<LabelledText> {
  const out: Splits<LabelledText> = { train: [], validation: [], test: [] };
  for (const s of SPLIT_NAMES) {
    const cap = Math.max(1, Math.round(samplesPerClass * RATIO[s]));
    const seen = new Array<number>(classes).fill(0);
    for (const it of splits[s]) if (seen[it.label]++ < cap) out[s].push(it);
  }
  return out;
}

export async function loadTextData(cfg: TextDataConfig): Promise<TextData> {
  let classes: string[];
  let splits: Splits<LabelledText>;
  let id: string;
  let dedup: DedupReport | null;
  if (FILE_DATASET.test(cfg.dataset)) {
    if (!existsSync(cfg.dataset)) throw new Error(`dataset: file not found: ${cfg.dataset}`);
    const st = statSync(cfg.dataset);
    const imported = await importClassificationFile(cfg.dataset, {
      textColumn: cfg.textColumn,
      labelColumn: cfg.labelColumn,
    });
    if (imported.classes.length < 2)
      throw new Error(
        `dataset: ${cfg.dataset} has ${imported.classes.length} label value(s) in column "${cfg.labelColumn}"; need at least 2`,
      );
    classes = imported.classes;
    const split = splitClassBalanced(imported.examples, classes.length, cfg.dataSeed);
    splits = split;
    dedup = split.dedup;
    id = `file:${cfg.dataset}:${st.size}:${st.mtimeMs}:${cfg.textColumn}:${cfg.labelColumn}`;
  } else {
    const problem = datasetNameProblem(cfg.dataset);
    if (problem) throw new Error(`dataset: ${problem}`);
    const ds = getDataset(cfg.dataset, { seed: cfg.dataSeed });
    if (ds.kind !== 'classification')
      throw new Error(`dataset: ${cfg.dataset} is not a classification dataset`);
    classes = ds.classes;
    splits = ds.splits;
    dedup = ds.dedup ?? null;
    id = `bundled:${cfg.dataset}`;
  }
  if (cfg.samplesPerClass !== null) splits = cutPerClass(splits, classes.length, cfg.samplesPerClass);
  for (const s of SPLIT_NAMES)
    if (splits[s].length === 0) throw new Error(`dataset: the ${s} split of ${cfg.dataset} is empty`);
  // the dedup rule is part of the identity: caches keyed on it never mix deduplicated and raw splits
  const rule = dedup ? `#dedup${dedup.prefixChars}` : '';
  return {
    id: `${id}#seed${cfg.dataSeed}#cut${cfg.samplesPerClass ?? 'all'}${rule}`,
    classes,
    splits: { train: splits.train, validation: splits.validation, test: splits.test },
    dedup,
    overlap: splitOverlap(splits),
  };
}
