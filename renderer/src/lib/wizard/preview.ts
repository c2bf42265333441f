// What the wizard shows beside the form: every problem the kind's schema finds (named as createRun names
// them), and for a valid config the kind's own parameter counts, circuit summaries and resources.
import { z } from 'zod';
import { describeZodError } from '../../../../core/api/lab-api';
import { type KindMeta, type ResourceLine, summarizeCircuits } from '../../../../core/api/kinds';
import type { Config, ConfigIssue, WizardPreview } from './spec';

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
