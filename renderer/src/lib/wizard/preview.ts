// What the wizard shows beside the form: every problem the kind's schema finds (named as createRun names
// them), and for a valid config the kind's own parameter counts, circuit summaries and resources.
import { z } from 'zod';
import { describeZodError } from '../../../../core/api/lab-api';
import { drawSvg, type KindMeta, type ResourceLine, summarizeCircuits } from '../../../../core/api/kinds';
import type { Calibration } from '../../../../core/api/lab-api';
import { estimateWork, type RunEstimate } from './estimate';
import type { Config, ConfigIssue, PreviewExtras, WizardPreview } from './spec';

export function issuesOf(meta: KindMeta, c: Config): ConfigIssue[] {
  const r = meta.schema.safeParse(c);
  return r.success ? [] : r.error.issues.map((i) => describeZodError(new z.ZodError([i]), 'config'));
}

export function previewOf(meta: KindMeta, c: Config): WizardPreview | null {
  const r = meta.schema.safeParse(c);
  if (!r.success) return null;
  return {
    models: meta.parameterCounts(r.data),
    circuits: summarizeCircuits(meta.circuits(r.data)),
    resources: meta.resources(r.data),
  };
}

/** Circuits drawn (SVG) beyond this many operations would be unreadable; they are summarised only. */
const MAX_DRAWN_OPS = 600;

/**
 * For a valid config: a drawing of each of the kind's circuits, and the run-time estimate where it has one —
 * from the lab's calibration ("calibrate for an estimate" until there is one).
 */
export function extrasOf(
  meta: KindMeta,
  c: Config,
  calibration: Calibration | null = null,
): PreviewExtras | null {
  const r = meta.schema.safeParse(c);
  if (!r.success) return null;
  const drawings = meta
    .circuits(r.data)
    .filter((x) => x.circuit.ops.length <= MAX_DRAWN_OPS)
    .map((x) => ({ name: x.name, svg: drawSvg(x.circuit, { title: x.name }) }));
  const work = meta.work?.(r.data);
  return {
    drawings,
    estimate:
      work && Number.isFinite(work.flops + work.amplitudeOps)
        ? {
            ...estimateWork(work, calibration),
            ...(work.note ? { note: work.note } : {}),
          }
        : null,
  };
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A resource figure for people: 1.5 MiB, 4,096. */
export function formatResource(r: ResourceLine): string {
  if (!Number.isFinite(r.value)) return r.note ?? '—';
  if (r.unit !== 'bytes') return r.value.toLocaleString('en-US');
  let v = r.value;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toPrecision(3)} ${UNITS[u]}`;
}

/** The run-time estimate of a config (a preset's, the form's), or null for a kind without a work model. */
export function estimateOf(meta: KindMeta, c: Config, calibration: Calibration | null): RunEstimate | null {
  if (!meta.work) return null;
  const r = meta.schema.safeParse(c);
  if (!r.success) return null;
  const work = meta.work(r.data);
  if (!Number.isFinite(work.flops + work.amplitudeOps)) return null;
  return { ...estimateWork(work, calibration), ...(work.note ? { note: work.note } : {}) };
}
