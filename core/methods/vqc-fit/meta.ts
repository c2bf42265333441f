// What `vqc-fit` says about itself: wizard steps, presets, the circuit, and the parameter counts of the
// circuit and of its matched MLP (the same functions the job sizes them with).
import { mlpHiddenForParams, mlpParamCount } from '../../nn/param-counts';
import { defineKindMeta, type WorkEstimate } from '../metadata/meta';
import { resources } from '../../quantum/resources';
import { stateVectorLines } from '../metadata/sizing';
import { reuploadingCircuit } from './circuit';
import { VqcFitConfigSchema, type VqcFitConfig } from './schema';

/** Circuit angles + Linear(qubits → 2) of the quantum model. */
export function vqcParamCount(c: Pick<VqcFitConfig, 'qubits' | 'layers' | 'inputScale'>): {
  circuit: number;
  linear: number;
} {
  return {
    circuit: reuploadingCircuit(c.qubits, c.layers, c.inputScale).numParams,
    linear: 2 * c.qubits + 2,
  };
}

/**
 * The run's work (the wizard's estimate): each epoch trains on every train point (a forward and the adjoint
 * gradient: 4 gate sweeps, as every kind counts a training step) and then evaluates train and test (one
 * sweep each); a sweep is every gate over 2^(qubits−1) amplitude pairs. The MLP baseline's flops are left
 * out (under a millionth of the circuit's work at these sizes).
 */
export function vqcWork(c: VqcFitConfig): WorkEstimate {
  const nTest = Math.max(1, Math.round(c.samples * c.testFraction));
  const nTrain = c.samples - nTest;
  const pairs = resources(reuploadingCircuit(c.qubits, c.layers, c.inputScale)).gates * 2 ** (c.qubits - 1);
  return {
    flops: 0,
    amplitudeOps: c.epochs * (4 * nTrain + nTrain + nTest) * pairs,
    qubits: c.qubits,
    note: 'the MLP baseline not counted',
  };
}

export const vqcFitMeta = defineKindMeta({
  kind: 'vqc-fit',
  title: 'Variational circuit fit',
  description:
    'A data re-uploading variational classifier on a seeded 2-D set (circles, moons, XOR, spirals), trained with adjoint gradients beside an MLP with the same number of trainable parameters.',
  schema: VqcFitConfigSchema,
  steps: [
    { id: 'data', title: 'Data', items: ['dataset', 'samples', 'noise', 'testFraction'] },
    { id: 'circuit', title: 'Circuit', items: ['qubits', 'layers', 'inputScale', 'backend', 'precision'] },
    { id: 'training', title: 'Training', items: ['epochs', 'batchSize', 'lr', 'baseline'] },
  ],
  presets: [
    {
      id: 'small',
      label: 'small',
      about: '4 qubits, 15 epochs (examples/vqc-fit.json)',
      config: { epochs: 15 },
    },
    {
      id: 'paper',
      label: 'paper-sized',
      about: '~200 train / 4,000 test points as in Pérez-Salinas et al., 4 qubits × 8 layers',
      config: { samples: 4200, testFraction: 0.95, qubits: 4, layers: 8, epochs: 50 },
    },
  ],
  parameterCounts(c) {
    const q = vqcParamCount(c);
    const quantum = q.circuit + q.linear;
    const counts = [
      {
        key: 'quantum',
        label: `VQC ${c.qubits} qubits × ${c.layers} layers`,
        role: 'quantum' as const,
        params: quantum,
        parts: { circuit: q.circuit, [`Linear ${c.qubits}→2`]: q.linear },
      },
    ];
    if (!c.baseline) return counts;
    const h = mlpHiddenForParams(quantum, 2, 2);
    return [
      ...counts,
      { key: 'mlp', label: `MLP 2-${h}-2 (GELU)`, role: 'baseline' as const, params: mlpParamCount(2, h, 2) },
    ];
  },
  circuits: (c) => [
    { name: 'VQC', circuit: reuploadingCircuit(c.qubits, c.layers, c.inputScale), note: 'per sample' },
  ],
  resources: (c) => stateVectorLines(c.qubits, c.precision, c.batchSize, 'VQC'),
  work: vqcWork,
});
