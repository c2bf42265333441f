// The tuning-budget field every comparison kind shares (core/methods/harness/tuning.ts turns it into each
// model's learning-rate candidates). Isomorphic: zod only.
import { z } from 'zod';
import { about } from './meta';

/** Default factors: a 3-point grid around each model's own learning rate. */
export const DEFAULT_LR_FACTORS = [0.3, 1, 3];

export const LrFactorsSchema = z
  .array(z.number().positive().max(1000))
  .min(1)
  .max(7)
  .default(DEFAULT_LR_FACTORS)
  .meta(about('learning-rate search'))
  .describe(
    'Every model tries its learning rate times each of these factors; validation picks one (the same budget for every model).',
  );
