// What `sim-bench` says about itself: wizard steps, presets, the circuits it times (built by the same
// workload functions the benchmark runs) and the state memory of its largest workloads. No model trains, so
// it has no parameter counts.
import { defineKindMeta, type ResourceLine } from '../metadata/meta';
import { amplitudeBytes } from '../metadata/sizing';
import { SimBenchConfigSchema, type SimBenchConfig } from './schema';
import { oneQubitLayer, qdllmStudent, qffnCircuit } from './workloads';

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
      estimate: 'about 15 s on 2 cores (examples/sim-bench.json)',
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
      estimate: 'minutes on 2 cores (not timed here): 24-qubit states, parameter shift and the PyTorch peer',
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
});
