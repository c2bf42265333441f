// The compare page: the server's comparison (what every run shares; the rest per kind), its axes for the
// parallel-coordinates view and the scatter, the brushes that filter the runs, and the curves of a few
// picked runs (only those are fetched: a sweep of hundreds stays one request plus a few).
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { Comparison, LabApi } from '../../../core/api/lab-api';
import { MAX_COMPARE_RUNS } from '../../../core/api/lab-types';
import {
  bestRuns,
  brushMask,
  comparisonAxes,
  defaultAxisIds,
  lowerIsBetter,
  type Axis,
  type Brush,
  type NumericAxis,
} from '../../../core/api/compare-axes';
import { errorMessage } from '../lib/format';
import { headlineIndex } from '../lib/compare';
import { SeriesState } from './series.svelte';

/** Runs whose curves are overlaid at most: past this the lines stop being tellable apart. */
export const MAX_OVERLAY_RUNS = 8;
/** Runs overlaid when the page opens. */
export const DEFAULT_OVERLAY_RUNS = 5;

export class CompareState {
  readonly #api: LabApi;
  readonly ids: readonly string[];
  #comparison = $state.raw<Comparison | null>(null);
  #error = $state<string | null>(null);
  /** Series of the picked runs, by run id (kept when a run is unpicked, so re-picking costs nothing). */
  #series = $state.raw<ReadonlyMap<string, SeriesState>>(new Map());
  /** Ids of the runs whose curves are overlaid, in the comparison's order. */
  #picked = $state.raw<readonly string[]>([]);
  /** How the current pick was made, for the picker's caption. */
  pickedBy = $state('');
  /** Axes on the parallel-coordinates view, in order. */
  shownAxisIds = $state.raw<readonly string[]>([]);
  brushes = $state.raw<readonly Brush[]>([]);
  scatterX = $state('');
  scatterY = $state('');

  constructor(api: LabApi, ids: readonly string[]) {
    this.#api = api;
    this.ids = ids;
  }

  get comparison(): Comparison | null {
    return this.#comparison;
  }
  get error(): string | null {
    return this.#error;
  }
  get picked(): readonly string[] {
    return this.#picked;
  }
  get series(): ReadonlyMap<string, SeriesState> {
    return this.#series;
  }

  /** Metric keys that every compared run has recorded. */
  readonly sharedKeys = $derived.by(() => (this.#comparison?.metrics ?? []).map((m) => m.key));
  readonly axes: Axis[] = $derived.by(() => (this.#comparison ? comparisonAxes(this.#comparison) : []));
  readonly shownAxes: Axis[] = $derived.by(() => {
    const byId = new Map(this.axes.map((a) => [a.id, a]));
    return this.shownAxisIds.flatMap((id) => byId.get(id) ?? []);
  });
  /** 1 for each run (comparison order) that passes every brush on a shown axis. */
  readonly mask: Uint8Array = $derived.by(() =>
    brushMask(this.shownAxes, this.brushes, this.#comparison?.runs.length ?? 0),
  );
  readonly activeCount = $derived.by(() => this.mask.reduce((s, v) => s + v, 0));
  readonly numericResultAxes = $derived.by(() =>
    this.axes.filter((a): a is NumericAxis => a.type === 'numeric' && a.source !== 'config'),
  );

  /** The figure "best 5" ranks by first: the headline among the summary figures (else among the metrics). */
  readonly headlineAxis = $derived.by((): NumericAxis | undefined => {
    const summary = this.numericResultAxes.filter((a) => a.source === 'summary');
    const pool = summary.length > 0 ? summary : this.numericResultAxes;
    return pool[headlineIndex(pool.map((a) => a.key))];
  });

  async load(): Promise<void> {
    if (this.ids.length < 2) {
      this.#error = 'Pick at least two runs to compare.';
      return;
    }
    if (this.ids.length > MAX_COMPARE_RUNS) {
      this.#error = `${this.ids.length.toLocaleString('en-US')} runs were asked; compare takes at most ${MAX_COMPARE_RUNS.toLocaleString('en-US')} at once. Select fewer (a filter or a tag narrows a sweep).`;
      return;
    }
    try {
      this.#comparison = await this.#api.compareRuns({ ids: [...this.ids] });
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
      return;
    }
    this.shownAxisIds = defaultAxisIds(this.axes);
    const shown = this.shownAxes;
    this.scatterX = shown[0]?.id ?? '';
    this.scatterY = shown[shown.length - 1]?.id ?? '';
    // The best few by the headline result figure (test accuracy first) when there is one, else the first few.
    const first = this.headlineAxis;
    if (first) await this.pickBest(first.id, DEFAULT_OVERLAY_RUNS);
    else await this.pickFirst(DEFAULT_OVERLAY_RUNS);
  }

  /** Sets (lo ≤ hi, clamped to [0, 1]) or with null clears the brush on an axis. */
  setBrush(axisId: string, band: { lo: number; hi: number } | null): void {
    const rest = this.brushes.filter((b) => b.axisId !== axisId);
    if (band === null) {
      this.brushes = rest;
      return;
    }
    const lo = Math.max(0, Math.min(band.lo, band.hi));
    const hi = Math.min(1, Math.max(band.lo, band.hi));
    this.brushes = [...rest, { axisId, lo, hi }];
  }

  clearBrushes(): void {
    this.brushes = [];
  }

  /** Shows or hides an axis on the parallel-coordinates view (a hidden axis' brush is dropped). */
  toggleAxis(id: string, on: boolean): void {
    if (on && !this.shownAxisIds.includes(id)) {
      const order = this.axes.map((a) => a.id);
      this.shownAxisIds = order.filter((x) => x === id || this.shownAxisIds.includes(x));
    } else if (!on) {
      this.shownAxisIds = this.shownAxisIds.filter((x) => x !== id);
      this.setBrush(id, null);
    }
  }

  /** Overlays exactly these runs (at most MAX_OVERLAY_RUNS; the rest are dropped) and fetches their curves. */
  async pick(ids: readonly string[], by = 'picked by hand'): Promise<void> {
    const runs = this.#comparison?.runs ?? [];
    const want = new Set(ids);
    this.#picked = runs
      .map((r) => r.id)
      .filter((id) => want.has(id))
      .slice(0, MAX_OVERLAY_RUNS);
    this.pickedBy = by;
    await this.#loadSeries();
  }

  async togglePick(id: string): Promise<void> {
    const next = this.#picked.includes(id) ? this.#picked.filter((x) => x !== id) : [...this.#picked, id];
    if (next.length > MAX_OVERLAY_RUNS) return;
    await this.pick(next);
  }

  /** The first `n` runs that pass the brushes. */
  async pickFirst(n: number): Promise<void> {
    const runs = this.#comparison?.runs ?? [];
    await this.pick(
      runs
        .filter((_, i) => this.mask[i])
        .map((r) => r.id)
        .slice(0, n),
      `the first ${n}`,
    );
  }

  /** The best `n` runs that pass the brushes by a numeric axis (lower is better for losses, errors, times). */
  async pickBest(axisId: string, n: number): Promise<void> {
    const a = this.axes.find((x) => x.id === axisId);
    const runs = this.#comparison?.runs ?? [];
    if (!a || a.type !== 'numeric') return;
    const higher = !lowerIsBetter(a.key);
    const idx = bestRuns(a, n, higher, this.mask);
    await this.pick(
      idx.map((i) => runs[i].id),
      `the best ${n} by ${a.key} (${higher ? 'highest' : 'lowest'})`,
    );
  }

  async #loadSeries(): Promise<void> {
    const keys = (this.#comparison?.metrics ?? []).filter((m) => m.count > 1).map((m) => m.key);
    const missing = this.#picked.filter((id) => !this.#series.has(id));
    if (missing.length === 0 || keys.length === 0) return;
    const next = new Map(this.#series);
    const added = missing.map((id) => new SeriesState(this.#api, id));
    for (const s of added) next.set(s.runId, s);
    this.#series = next;
    try {
      await Promise.all(added.map((s) => s.load(keys)));
    } catch (err) {
      this.#error = errorMessage(err);
    }
  }
}
