// Dataset shapes shared by the bundled corpora and the user's imports.
import type { DedupReport } from './dedup';

export interface TextDocument {
  /** Stable identifier (file name, group/message id, or source line) that the split hash is taken of. */
  id: string;
  text: string;
}

export interface LabelledText extends TextDocument {
  /** Index into the dataset's `classes`. */
  label: number;
}

export interface Splits<T> {
  train: T[];
  validation: T[];
  test: T[];
}

export interface LmCorpus {
  kind: 'lm';
  name: string;
  source: string;
  splits: Splits<TextDocument>;
}

export interface ClassificationDataset {
  kind: 'classification';
  name: string;
  source: string;
  classes: string[];
  splits: Splits<LabelledText>;
  /** What deduplication before the split dropped (absent: not deduplicated). */
  dedup?: DedupReport | null;
}

export type Dataset = LmCorpus | ClassificationDataset;

export class DataError extends Error {
  override name = 'DataError';
}
