// Metric curves of one run: downsampled from the server on open and periodically, live points appended
// from 'metrics' events in between, capped so a long run never grows the chart without bound.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { LabApi, LabEvent, Series } from '../../../core/api/lab-api';

/** One curve as parallel arrays (the chart reads them directly). */
export interface SeriesData {
  readonly key: string;
  /** Points stored for this key as far as this client knows (server count plus live points since). */
  readonly total: number;
  readonly steps: readonly number[];
  readonly last: readonly number[];
  readonly min: readonly number[];
  readonly max: readonly number[];
}

export const DEFAULT_MAX_POINTS = 1000;
/** Points asked from the server per key: half the cap, so live appends have room before the first merge. */
const FETCH_POINTS = DEFAULT_MAX_POINTS / 2;

export class SeriesState {
  readonly #api: LabApi;
  readonly runId: string;
  readonly maxPoints: number;
  #series = $state.raw<ReadonlyMap<string, SeriesData>>(new Map());

  constructor(api: LabApi, runId: string, maxPoints = DEFAULT_MAX_POINTS) {
    if (maxPoints < 2) throw new Error('SeriesState: maxPoints must be at least 2');
    this.#api = api;
    this.runId = runId;
    this.maxPoints = maxPoints;
  }

  get series(): ReadonlyMap<string, SeriesData> {
    return this.#series;
  }
  readonly keys = $derived.by(() => [...this.#series.keys()].sort());

  /** Fetches the downsampled series for `keys` and replaces them, keeping live points newer than the fetch. */
  async load(keys: readonly string[]): Promise<void> {
    const fetched = await Promise.all(
      keys.map((key) =>
        this.#api.getSeries({ runId: this.runId, key, maxPoints: Math.min(FETCH_POINTS, this.maxPoints) }),
      ),
    );
    const next = new Map(this.#series);
    for (const s of fetched) next.set(s.key, mergeFetched(s, next.get(s.key), this.maxPoints));
    this.#series = next;
  }

  /** Appends live points (any keys, any order); points at or before a curve's last step are ignored. */
  append(points: readonly { key: string; step: number; value: number }[]): void {
    if (points.length === 0) return;
    const byKey = new Map<string, { step: number; value: number }[]>();
    for (const p of points) {
      if (!Number.isFinite(p.step)) continue;
      let list = byKey.get(p.key);
      if (!list) byKey.set(p.key, (list = []));
      list.push(p);
    }
    const next = new Map(this.#series);
    for (const [key, list] of byKey) {
      list.sort((a, b) => a.step - b.step);
      const cur = next.get(key);
      const steps = cur ? cur.steps.slice() : [];
      const last = cur ? cur.last.slice() : [];
      const min = cur ? cur.min.slice() : [];
      const max = cur ? cur.max.slice() : [];
      let total = cur?.total ?? 0;
      for (const p of list) {
        if (steps.length > 0 && p.step <= steps[steps.length - 1]) continue;
        steps.push(p.step);
        last.push(p.value);
        min.push(p.value);
        max.push(p.value);
        total++;
      }
      next.set(key, capSeries({ key, total, steps, last, min, max }, this.maxPoints));
    }
    this.#series = next;
  }

  applyEvent(event: LabEvent): boolean {
    if (event.type !== 'metrics' || event.runId !== this.runId) return false;
    this.append(event.points);
    return true;
  }
}

function mergeFetched(s: Series, local: SeriesData | undefined, maxPoints: number): SeriesData {
  const steps = s.points.map((p) => p.step);
  const last = s.points.map((p) => p.last);
  const min = s.points.map((p) => p.min);
  const max = s.points.map((p) => p.max);
  let total = s.count;
  // Points that arrived by event after the server answered are newer than its last step; keep them.
  const lastStep = steps.length > 0 ? steps[steps.length - 1] : -Infinity;
  if (local) {
    for (let i = 0; i < local.steps.length; i++) {
      if (local.steps[i] <= lastStep) continue;
      steps.push(local.steps[i]);
      last.push(local.last[i]);
      min.push(local.min[i]);
      max.push(local.max[i]);
      total++;
    }
  }
  return capSeries({ key: s.key, total, steps, last, min, max }, maxPoints);
}

/** Halves a curve past the cap by merging neighbour pairs (later step and last value, min of mins, max of maxes). */
export function capSeries(
  s: { key: string; total: number; steps: number[]; last: number[]; min: number[]; max: number[] },
  maxPoints: number,
): SeriesData {
  let { steps, last, min, max } = s;
  while (steps.length > maxPoints) {
    const n = steps.length;
    const half = Math.ceil(n / 2);
    const ns = new Array<number>(half);
    const nl = new Array<number>(half);
    const nmin = new Array<number>(half);
    const nmax = new Array<number>(half);
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = Math.min(a + 1, n - 1);
      ns[j] = steps[b];
      nl[j] = last[b];
      nmin[j] = Math.min(min[a], min[b]);
      nmax[j] = Math.max(max[a], max[b]);
    }
    steps = ns;
    last = nl;
    min = nmin;
    max = nmax;
  }
  return { key: s.key, total: s.total, steps, last, min, max };
}
