// Config fields and wizard items two kinds share, defined once: the small LLaMA-flavour LM the lab pretrains
// on a bundled corpus (qdllm's lab teacher, qhead's pretrained encoder; qffn's and qtha's base with its model
// directory, pretraining and seed), the rule that attention heads split
// the width evenly, and a bundled dataset or an imported file (its columns, the wizard's source switch).
// Isomorphic, as the schemas and metadata that use them.
import { z } from 'zod';
import { LM_CORPORA } from '../../data/names';
import { about, type StepItem, type SwitchMeta, type When } from './meta';
import { BUNDLED_LABELS, BUNDLED_OPTIONS } from './sizing';

const int = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

export interface LmDefaults {
  /** Smallest corpus slice accepted, characters. */
  minChars: number;
  vocabSize: number;
  intermediateSize: number;
  /** Help of the width: what else it sets (the embedding width the student or head sees). */
  widthHelp: string;
}

function lmShape(d: LmDefaults) {
  return {
    corpus: z
      .enum(LM_CORPORA)
      .default('brown')
      .meta(about('corpus'))
      .describe('Bundled corpus the LM and its byte-level BPE are trained on.'),
    corpusChars: int(d.minChars, 50_000_000)
      .default(400_000)
      .meta(about('corpus characters', { unit: 'characters' }))
      .describe('Characters of the corpus’s train split used for the BPE and pretraining.'),
    vocabSize: int(260, 65_536)
      .default(d.vocabSize)
      .meta(about('vocabulary', { unit: 'tokens' }))
      .describe('Byte-level BPE vocabulary size.'),
    hiddenSize: int(8, 4096).default(64).meta(about('width')).describe(d.widthHelp),
    intermediateSize: int(8, 16_384)
      .default(d.intermediateSize)
      .meta(about('MLP width'))
      .describe('Feed-forward width of each layer.'),
    layers: int(1, 48).default(2).meta(about('layers')).describe('Transformer layers.'),
    heads: int(1, 64)
      .default(4)
      .meta(about('heads'))
      .describe('Attention heads; the width must split into heads of even width.'),
  };
}
type LmShape = ReturnType<typeof lmShape>;

/** The LM's fields in the order given (each kind keeps its own: cache keys hash the config as written). */
export function lmFields<K extends keyof LmShape>(order: readonly K[], d: LmDefaults): Pick<LmShape, K> {
  const all = lmShape(d);
  return Object.fromEntries(order.map((k) => [k, all[k]])) as Pick<LmShape, K>;
}

/** What differs between the kinds that compress or adapt a base LM (qffn, qtha): a default and the help texts. */
export interface BaseLmDefaults {
  pretrainSteps: number;
  help: { modelDir: string; pretrainSteps: string; pretrainLr: string; seed: string };
}

/**
 * The base LM's own fields beside lmFields (qffn's and qtha's `base`): a model directory instead of
 * pretraining, the pretraining steps and learning rate, and the base seed, apart from the run seed. Each kind
 * places them in its own key order (cache keys hash the config as written).
 */
export function baseLmFields(d: BaseLmDefaults) {
  return {
    modelDir: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .meta(about('model directory'))
      .describe(d.help.modelDir),
    pretrainSteps: int(0, 1_000_000)
      .default(d.pretrainSteps)
      .meta(about('pretraining steps', { unit: 'steps' }))
      .describe(d.help.pretrainSteps),
    pretrainLr: z
      .number()
      .positive()
      .max(1)
      .default(3e-3)
      .meta(about('pretraining lr'))
      .describe(d.help.pretrainLr),
    seed: int(0, 2 ** 31 - 1)
      .default(0)
      .meta(about('base seed'))
      .describe(d.help.seed),
  };
}

/** Where the text and the label of each row of an imported file are. */
export const COLUMN_FIELDS = {
  textColumn: z
    .string()
    .min(1)
    .default('text')
    .meta(about('text column'))
    .describe('Column (or JSON key) holding the text.'),
  labelColumn: z
    .string()
    .min(1)
    .default('label')
    .meta(about('label column'))
    .describe('Column (or JSON key) holding the class label.'),
};

/** Refuses a transformer width that does not split into `heads` heads of even width (RoPE pairs). */
export function checkEvenHeads(
  ctx: z.RefinementCtx,
  path: string[],
  s: { hiddenSize: number; heads: number },
): void {
  if (s.hiddenSize % s.heads !== 0 || (s.hiddenSize / s.heads) % 2 !== 0)
    ctx.addIssue({
      code: 'custom',
      path,
      message: `hiddenSize ${s.hiddenSize} must split into ${s.heads} heads of even width`,
    });
}

type Writes = Pick<SwitchMeta['choices'][number], 'remove' | 'fill' | 'set'>;

/**
 * The wizard's data source: a switch between a bundled set (the `dataset` select) and an imported file (the
 * `file` items); `bundled` and `file` say how the config shows each, `toBundled`/`toFile` how each is written.
 */
export function dataSourceItems(s: {
  key: string;
  bundled: When;
  file: When;
  toBundled: Writes;
  toFile: Writes;
  fileItems: readonly StepItem[];
}): StepItem[] {
  return [
    {
      id: 'dataSource',
      label: 'source',
      help: 'A bundled classification set, or your own CSV/TSV/JSONL file with a text and a label column.',
      key: s.key,
      choices: [
        { value: 'bundled', label: 'bundled dataset', when: s.bundled, ...s.toBundled },
        { value: 'file', label: 'import a CSV / JSONL file', when: s.file, ...s.toFile },
      ],
    },
    { when: s.bundled, items: [{ key: 'dataset', options: BUNDLED_OPTIONS, optionLabels: BUNDLED_LABELS }] },
    { when: s.file, items: s.fileItems },
  ];
}
