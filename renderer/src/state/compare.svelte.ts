// The compare page: the server's comparison (config diff, final metrics) plus each run's curves for the
// metric keys every run has.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { Comparison, LabApi } from '../../../core/api/lab-api';
import { errorMessage } from '../lib/format';
import { SeriesState } from './series.svelte';

export class CompareState {
  readonly #api: LabApi;
  readonly ids: readonly string[];
  #comparison = $state.raw<Comparison | null>(null);
  #series = $state.raw<SeriesState[]>([]);
  #error = $state<string | null>(null);

  constructor(api: LabApi, ids: readonly string[]) {
    this.#api = api;
    this.ids = ids;
  }

  get comparison(): Comparison | null {
    return this.#comparison;
  }
  get series(): SeriesState[] {
    return this.#series;
  }
  get error(): string | null {
    return this.#error;
  }

  /** Metric keys that every compared run has recorded. */
  readonly sharedKeys = $derived.by(() => {
    const runs = this.#comparison?.runs ?? [];
    if (runs.length === 0) return [];
    const [first, ...rest] = runs.map((r) => new Set(r.metrics.map((m) => m.key)));
    return [...first].filter((k) => rest.every((s) => s.has(k))).sort();
  });

  async load(): Promise<void> {
    if (this.ids.length < 2) {
      this.#error = 'Pick at least two runs to compare.';
      return;
    }
    try {
      const comparison = await this.#api.compareRuns({ ids: [...this.ids] });
      this.#comparison = comparison;
      const series = comparison.runs.map((r) => new SeriesState(this.#api, r.id));
      this.#series = series;
      await Promise.all(series.map((s) => s.load(this.sharedKeys)));
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
    }
  }
}
