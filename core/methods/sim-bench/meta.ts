// What `sim-bench` says about itself: wizard steps, presets, the circuits it times (built by the same
// workload functions the benchmark runs) and the state memory of its largest workloads. No model trains, so
// it has no parameter counts.
import { defineKindMeta, type ResourceLine, type WorkEstimate } from '../metadata/meta';
import { resources } from '../../quantum/resources';
import { amplitudeBytes } from '../metadata/sizing';
import { SimBenchConfigSchema, type SimBenchConfig } from './schema';
import { oneQubitLayer, qdllmStudent, qffnCircuit, type Workload } from './workloads';

/** Complex64 states: the benchmark's cpu backend runs f32. */
const F32 = amplitudeBytes('f32');

function memory(c: SimBenchConfig): ResourceLine[] {
  const largest = Math.max(0, ...c.largeQubits);
  const lines: ResourceLine[] = [
    { label: 'QML batch: n = 10', value: F32 * 2 ** 10 * c.qmlBatch, unit: 'bytes' },
    {
      label: 'QD-LLM: n = 11, largest batch',
      value: F32 * 2 ** 11 * Math.max(0, ...c.qdllmBatches),
      unit: 'bytes',
    },
    { label: 'QFFN: n = 10', value: F32 * 2 ** 10 * c.qffnBatch, unit: 'bytes' },
  ];
  const largest64 = c.f64 ? Math.max(0, ...c.largeQubits.filter((n) => n <= 22)) : 0;
  if (largest64 > 0)
    lines.unshift({
      label: `large state, f64: n = ${largest64}`,
      value: amplitudeBytes('f64') * 2 ** largest64,
      unit: 'bytes',
    });
  if (largest > 0)
    lines.unshift({ label: `large state: n = ${largest}`, value: F32 * 2 ** largest, unit: 'bytes' });
  return lines;
}

/** Amplitude updates of one pass of a workload's gates over its batch (a forward; the adjoint is 3 more). */
function sweep(w: Workload): number {
  return resources(w.circuit).gates * 2 ** (w.circuit.qubits - 1) * w.batch;
}

/**
 * The benchmark's work, counted call by call as run.ts makes them: per large state the two one-qubit layers
 * of secondsPerGate (a warm-up and max(repeats, 5) timed calls each, one more for the backend's name), the same
 * at n = 10 over the QML batch, then for each QD-LLM batch and the QFFN circuit a forward to learn the backend,
 * and a warm-up plus `repeats` forwards and adjoint gradients (1 + 3 sweeps); f64 repeats its rows (counted at
 * the f32 rates), parameter shift 2 forwards per angle. Not counted: memcpy timings, the gpu backend, the
 * PyTorch peer.
 */
function work(c: SimBenchConfig): WorkEstimate {
  const byWidth = new Map<number, number>();
  const add = (w: Workload, sweeps: number) =>
    byWidth.set(w.circuit.qubits, (byWidth.get(w.circuit.qubits) ?? 0) + sweeps * sweep(w));
  const perGate = (n: number, gates: number, batch: number, times: number) => {
    const g2 = Math.min(gates, n);
    const g1 = Math.max(1, g2 >> 1);
    const r = Math.max(c.repeats, 5) + 1;
    add(oneQubitLayer(n, g1, batch), times * r);
    add(oneQubitLayer(n, g2, batch), times * (r + 1));
  };
  for (const n of c.largeQubits) perGate(n, c.largeGates, 1, c.f64 && n <= 22 ? 2 : 1);
  perGate(10, 10, c.qmlBatch, 1);
  const workloads = [
    ...c.qdllmBatches.map((B) => qdllmStudent(11, c.qdllmLayers, B)),
    qffnCircuit(10, c.qffnDepth, c.qffnBatch),
  ];
  // a forward for the backend's name, then a warm-up and `repeats` timed forwards (1 sweep) and adjoints (3)
  const timed = 1 + (c.repeats + 1) * (1 + 3);
  workloads.forEach((w, i) => {
    add(w, timed);
    if (c.f64 && i < c.qdllmBatches.length) add(w, timed);
    if (c.parameterShift) add(w, 2 * w.circuit.numParams);
  });
  const parts = [...byWidth].map(([qubits, amplitudeOps]) => ({ qubits, amplitudeOps }));
  return {
    flops: 0,
    amplitudeOps: parts.reduce((t, p) => t + p.amplitudeOps, 0),
    byWidth: parts,
    note: 'memcpy timings, the gpu backend and the PyTorch peer not counted',
  };
}

export const simBenchMeta = defineKindMeta({
  kind: 'sim-bench',
  title: 'Simulator benchmark',
  description:
    'Gate throughput against memcpy bandwidth, the QD-LLM student and QFFN-sized circuits (forward, adjoint and parameter-shift gradients), beside a PyTorch state-vector peer on this machine.',
  schema: SimBenchConfigSchema,
  steps: [
    {
      id: 'workloads',
      title: 'Workloads',
      items: [
        'largeQubits',
        'largeGates',
        'qmlBatch',
        'qdllmBatches',
        'qdllmLayers',
        'qffnBatch',
        'qffnDepth',
      ],
    },
    {
      id: 'measure',
      title: 'Measurement',
      items: ['parameterShift', 'f64', 'threads', 'gpu', 'peer', 'repeats'],
    },
  ],
  presets: [
    {
      id: 'small',
      label: 'small',
      about:
        '16- and 18-qubit states, QD-LLM batches 8 and 64, without the PyTorch peer (examples/sim-bench.json)',
      config: {
        largeQubits: [16, 18],
        qmlBatch: 256,
        qdllmBatches: [8, 64],
        qffnBatch: 128,
        parameterShift: false,
        threads: 0,
        peer: false,
        repeats: 2,
      },
    },
    {
      id: 'paper',
      label: 'full (paper-sized circuits)',
      about: '24-qubit states, parameter shift and the PyTorch peer',
      config: {},
    },
  ],
  parameterCounts: () => [],
  circuits: (c) => {
    const largest = Math.max(0, ...c.largeQubits);
    const large = largest
      ? [
          {
            name: `large state n = ${largest}`,
            circuit: oneQubitLayer(largest, Math.min(c.largeGates, largest), 1).circuit,
          },
        ]
      : [];
    return [
      ...large,
      { name: 'QD-LLM student', circuit: qdllmStudent(11, c.qdllmLayers, 1).circuit, note: 'per sample' },
      { name: 'QFFN-sized', circuit: qffnCircuit(10, c.qffnDepth, 1).circuit, note: 'per sample' },
    ];
  },
  resources: memory,
  work,
});
