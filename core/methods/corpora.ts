// The bundled language-modelling corpora that teachers and encoders pretrain on, as schemas can name them
// without loading core/data's registry (kind "lm" there; test/unit/methods/kind-meta.test.ts keeps them equal).
export const LM_CORPORA = ['brown', 'moby-dick'] as const;
