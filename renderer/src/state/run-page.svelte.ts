// One run's page: its detail, its live curves, and a periodic re-sync with the server while it runs.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { LabApi, LabEvent, RunDetail, RunStatus } from '../../../core/api/lab-api';
import {
  groupMetricKeys,
  splitSinglePoints,
  type MetricGroup,
  type SinglePointTable,
} from '../../../core/api/metric-groups';
import { errorMessage } from '../lib/format';
import { SeriesState } from './series.svelte';

const ACTIVE: readonly RunStatus[] = ['queued', 'running'];
/** While a run is active the page re-fetches its detail and downsampled curves this often. */
export const RESYNC_MS = 4000;

export class RunPageState {
  readonly #api: LabApi;
  readonly id: string;
  readonly series: SeriesState;
  #detail = $state.raw<RunDetail | null>(null);
  #error = $state<string | null>(null);
  /** Children ticked for comparison. */
  #selectedChildren = $state.raw<ReadonlySet<string>>(new Set());
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(api: LabApi, id: string) {
    this.#api = api;
    this.id = id;
    this.series = new SeriesState(api, id);
  }

  get detail(): RunDetail | null {
    return this.#detail;
  }
  get error(): string | null {
    return this.#error;
  }
  get selectedChildren(): ReadonlySet<string> {
    return this.#selectedChildren;
  }
  /** Ticked children in table order. */
  readonly selectedChildIds = $derived.by(() =>
    (this.#detail?.children ?? []).filter((c) => this.#selectedChildren.has(c.id)).map((c) => c.id),
  );

  toggleChild(id: string, on?: boolean): void {
    const next = new Set(this.#selectedChildren);
    if (on ?? !next.has(id)) next.add(id);
    else next.delete(id);
    this.#selectedChildren = next;
  }

  readonly active = $derived.by(() => this.#detail !== null && ACTIVE.includes(this.#detail.status));
  /** Metric keys known from the stored summary or from live points. */
  readonly keys = $derived.by(() => {
    const keys = new Set(this.series.keys);
    for (const m of this.#detail?.metrics ?? []) keys.add(m.key);
    return [...keys].sort();
  });

  /** Points known for a key: the stored count, or more once live points have arrived. */
  #count(key: string): number {
    const stored = this.#detail?.metrics.find((m) => m.key === key)?.count ?? 0;
    return Math.max(stored, this.series.series.get(key)?.total ?? 0);
  }

  /**
   * The curves as charts (one per metric, a line per model/seed) and the one-point series as a table of
   * final values, so a run with many short keys is not a wall of single-dot charts.
   */
  readonly layout = $derived.by((): { charts: MetricGroup[]; singles: SinglePointTable } => {
    const lastStored = new Map((this.#detail?.metrics ?? []).map((m) => [m.key, m.last]));
    return splitSinglePoints(
      groupMetricKeys(this.keys),
      (k) => this.#count(k),
      (k) => {
        const live = this.series.series.get(k);
        return live && live.last.length > 0 ? live.last[live.last.length - 1] : (lastStored.get(k) ?? null);
      },
    );
  });

  /** Fetches the detail and the curves worth a chart (one-point keys are shown from the detail alone). */
  async refresh(): Promise<void> {
    try {
      const detail = await this.#api.getRun(this.id);
      this.#detail = detail;
      await this.series.load(detail.metrics.filter((m) => m.count > 1).map((m) => m.key));
      this.#error = null;
    } catch (err) {
      this.#error = errorMessage(err);
    }
  }

  applyEvent(event: LabEvent): void {
    if (event.type === 'metrics') {
      this.series.applyEvent(event);
      return;
    }
    if (event.type !== 'run-updated' && event.type !== 'run-created') return;
    if (!this.#detail) return;
    if (event.run.parentId === this.id) {
      // One of this run's children: insert or replace it in place (children stay in creation order).
      const kids = this.#detail.children;
      const j = kids.findIndex((c) => c.id === event.run.id);
      const children = j < 0 ? [...kids, event.run] : kids.map((c, k) => (k === j ? event.run : c));
      this.#detail = { ...this.#detail, children };
      return;
    }
    if (event.run.id !== this.id) return;
    const before = this.#detail.status;
    this.#detail = { ...this.#detail, ...event.run };
    // Leaving the active states brings the result, report and artifacts: fetch them once.
    if (ACTIVE.includes(before) && !ACTIVE.includes(event.run.status)) void this.refresh();
  }

  /** Starts the periodic re-sync (a no-op tick while the run is finished). */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => {
      if (this.active) void this.refresh();
    }, RESYNC_MS);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async cancel(): Promise<void> {
    try {
      const run = await this.#api.cancelRun(this.id);
      if (this.#detail) this.#detail = { ...this.#detail, ...run };
    } catch (err) {
      this.#error = errorMessage(err);
    }
  }

  async setTags(tags: string[]): Promise<void> {
    try {
      const run = await this.#api.setTags({ runId: this.id, tags });
      if (this.#detail) this.#detail = { ...this.#detail, ...run };
    } catch (err) {
      this.#error = errorMessage(err);
    }
  }

  async addNote(text: string): Promise<boolean> {
    try {
      const note = await this.#api.addNote({ runId: this.id, text });
      if (this.#detail) this.#detail = { ...this.#detail, notes: [...this.#detail.notes, note] };
      return true;
    } catch (err) {
      this.#error = errorMessage(err);
      return false;
    }
  }
}
