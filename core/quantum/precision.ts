// The `precision` config field of the methods that simulate circuits, kept apart from the simulators so
// schemas can use it without loading them.
import { z } from 'zod';

/** f32 = complex64 amplitudes (the default: fast), f64 = complex128 (cpu only: reference runs). */
export const PrecisionSchema = z.enum(['f32', 'f64']).default('f32');

/** The message a gpu + f64 config is refused with (schemas and createSimulator say the same). */
export const GPU_F64_MESSAGE = 'the gpu backend runs in f32 only; choose precision "f32" or backend "cpu"';
