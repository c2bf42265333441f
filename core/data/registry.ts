// Bundled datasets by name. Loaded on first use and kept for the process (they are read-only).
import { loadBrownLm, loadBrownTopics, loadMobyDick, loadSpamAssassin, DEFAULT_SEED } from './bundled';
import { DataError, type Dataset } from './types';

interface Entry {
  kind: Dataset['kind'];
  description: string;
  load: (opts: { seed: number }) => Dataset;
}

const REGISTRY: Record<string, Entry> = {
  brown: { kind: 'lm', description: 'Brown corpus, 500 documents, tags stripped', load: loadBrownLm },
  'brown-topics': {
    kind: 'classification',
    description: 'Brown documents, 4 topics (press, fiction, learned, hobbies-lore), balanced',
    load: loadBrownTopics,
  },
  'spam-assassin': {
    kind: 'classification',
    description: 'SpamAssassin mail bodies, ham vs spam, balanced',
    load: loadSpamAssassin,
  },
  'moby-dick': { kind: 'lm', description: 'Moby Dick, one document per chapter', load: loadMobyDick },
};

const cache = new Map<string, Dataset>();

export function datasetNames(): string[] {
  return Object.keys(REGISTRY);
}

export function describeDatasets(): { name: string; kind: Dataset['kind']; description: string }[] {
  return Object.entries(REGISTRY).map(([name, e]) => ({ name, kind: e.kind, description: e.description }));
}

function entryOf(name: string): Entry {
  const entry = Object.prototype.hasOwnProperty.call(REGISTRY, name) ? REGISTRY[name] : undefined;
  if (!entry) {
    throw new DataError(
      `unknown dataset ${JSON.stringify(name)}; known datasets: ${datasetNames().join(', ')}`,
    );
  }
  return entry;
}

/** A bundled dataset with its deterministic splits; unknown names are an error listing the known ones. */
export function getDataset(name: string, opts: { seed?: number } = {}): Dataset {
  const entry = entryOf(name);
  const seed = opts.seed ?? DEFAULT_SEED;
  const key = `${name}#${seed}`;
  let ds = cache.get(key);
  if (!ds) {
    ds = entry.load({ seed });
    cache.set(key, ds);
  }
  return ds;
}

/** Loads a bundled dataset afresh, past the process's cache (the run-time calibration times a job's first load). */
export function loadDatasetUncached(name: string, opts: { seed?: number } = {}): Dataset {
  return entryOf(name).load({ seed: opts.seed ?? DEFAULT_SEED });
}
