// The simulator precision select of the wizards whose jobs simulate circuits (qdllm, qhead); the server's
// schema refuses what it must (f64 with the gpu backend), as for every other field.
import type { WizardField } from './spec';

/** The simulator precision select, as the qdllm student step shows it (the gpu backend takes f32 only). */
export const PRECISION_FIELD: WizardField = {
  id: 'precision',
  label: 'precision',
  help: 'Amplitudes of the simulated state: complex64 (WebAssembly SIMD from 5 qubits) or complex128 for reference runs; the gpu runs f32 only.',
  kind: 'select',
  path: ['precision'],
  options: [
    { value: 'f32', label: 'f32 (complex64, fast)' },
    { value: 'f64', label: 'f64 (complex128, reference)' },
  ],
};
