// Offline datasets: bundled corpora by name, importers for the user's files, deterministic splits.
export * from './types';
export * from './names';
export {
  DEDUP_PREFIX_CHARS,
  dedupTexts,
  dedupRule,
  excludeHeldOut,
  describeDedup,
  describeOverlap,
  normaliseText,
  overlapTotal,
  splitOverlap,
  type DedupOptions,
  type DedupReport,
  type SplitOverlap,
} from './dedup';
export { seededHash, hashOrder, splitDocuments, splitClassBalanced, type SplitRatios } from './split';
export {
  BROWN_GENRES,
  DEFAULT_SEED,
  loadBrownLm,
  loadBrownTopics,
  loadMobyDick,
  loadSpamAssassin,
  stripBrownTags,
  stripMailHeaders,
} from './bundled';
export { getDataset, loadDatasetUncached, datasetNames, describeDatasets } from './registry';
export {
  decodeUtf8,
  importClassification,
  importClassificationFile,
  importTextCorpus,
  parseDelimited,
  type ImportReport,
  type RejectedRow,
  type ImportedClassification,
  type ClassificationImportOptions,
} from './import';
