// What is known about the datasets without loading them: the bundled classification sets and their classes,
// the file types the importers read, the split names. Isomorphic (no Node imports), so config schemas and the
// renderer's wizards can use it.

/** The 4-class topic task: class → genre letters. Genres d, g, h, r are left out (too small or mixed). */
export const BROWN_TOPIC_CLASSES: [string, string[]][] = [
  ['press', ['a', 'b', 'c']],
  ['fiction', ['k', 'l', 'm', 'n', 'p']],
  ['learned', ['j']],
  ['hobbies-lore', ['e', 'f']],
];

/** The bundled classification datasets and their class counts (known without loading them). */
export const BUNDLED_CLASSIFICATION: Readonly<Record<string, number>> = {
  'spam-assassin': 2,
  'brown-topics': BROWN_TOPIC_CLASSES.length,
};

export const FILE_DATASET = /\.(csv|tsv|jsonl)$/i;

/** Why a dataset name is not usable, or null: a bundled name or a .csv/.tsv/.jsonl path. */
export function datasetNameProblem(name: string): string | null {
  if (Object.prototype.hasOwnProperty.call(BUNDLED_CLASSIFICATION, name) || FILE_DATASET.test(name))
    return null;
  return `unknown dataset ${JSON.stringify(name)}; known datasets: ${Object.keys(BUNDLED_CLASSIFICATION).join(', ')} (or a path to a .csv, .tsv or .jsonl file)`;
}

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** The bundled language-modelling corpora that teachers and encoders pretrain on (kind "lm" in registry.ts). */
export const LM_CORPORA = ['brown', 'moby-dick'] as const;
