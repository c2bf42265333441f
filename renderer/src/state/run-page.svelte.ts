// One run's page: its detail, its live curves, and a periodic re-sync with the server while it runs.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { LabApi, LabEvent, RunDetail, RunStatus } from '../../../core/api/lab-api';
import {
  groupMetricKeys,
  splitSinglePoints,
  withoutStoredSeedMeans,
  type MetricGroup,
  type SinglePointTable,
} from '../../../core/api/metric-groups';
import { errorMessage } from '../lib/format';
import { SeriesState } from './series.svelte';

const ACTIVE: readonly RunStatus[] = ['queued', 'running'];
/** While a run is active the page re-fetches its detail and downsampled curves this often. */
export const RESYNC_MS = 4000;
/** The log view keeps this many of the latest lines. */
export const LOG_LINES = 2000;

export interface LogLine {
  at: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export class RunPageState {
  readonly #api: LabApi;
  readonly id: string;
  readonly series: SeriesState;
  #detail = $state.raw<RunDetail | null>(null);
  #error = $state<string | null>(null);
  #tagsError = $state<string | null>(null);
  #notesError = $state<string | null>(null);
  /** Children ticked for comparison. */
  #selectedChildren = $state.raw<ReadonlySet<string>>(new Set());
  #timer: ReturnType<typeof setInterval> | null = null;
  /** The stored log's last lines (getRunLog, read once) followed by the lines written since. */
  #log = $state.raw<readonly LogLine[]>([]);
  /** Whether older lines of the stored log were left out, and the stored file's size. */
  #logInfo = $state.raw<{ truncated: boolean; bytes: number } | null>(null);
  /** Live lines that arrived while the stored log was being read (they may be in it already). */
  #liveDuringRead: LogLine[] | null = null;

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
  get log(): readonly LogLine[] {
    return this.#log;
  }
  /** Null until the stored log has been read. */
  get logInfo(): { truncated: boolean; bytes: number } | null {
    return this.#logInfo;
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
      groupMetricKeys(withoutStoredSeedMeans(this.#detail?.kind ?? '', this.keys)),
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

  /**
   * Reads the stored log's last LOG_LINES lines and puts them before the live ones. A live line that arrived
   * during the read and matches one of the stored tail's lines is the same line (the service writes the file
   * before it emits), so it is kept once.
   */
  async loadLog(): Promise<void> {
    this.#liveDuringRead = [];
    try {
      const stored = await this.#api.getRunLog({ runId: this.id, maxLines: LOG_LINES });
      const during = this.#liveDuringRead;
      const seen = new Set(stored.lines.slice(-during.length - 1).map((l) => `${l.level} ${l.message}`));
      const fresh = during.filter((l) => !seen.has(`${l.level} ${l.message}`));
      const before = this.#log.slice(0, this.#log.length - during.length);
      this.#log = [...before, ...stored.lines, ...fresh].slice(-LOG_LINES);
      this.#logInfo = { truncated: stored.truncated, bytes: stored.bytes };
    } catch (err) {
      this.#error = errorMessage(err);
    } finally {
      this.#liveDuringRead = null;
    }
  }

  applyEvent(event: LabEvent, now = new Date()): void {
    if (event.type === 'log') {
      if (event.runId !== this.id) return;
      const line = { at: now.toISOString(), level: event.level, message: event.message };
      this.#liveDuringRead?.push(line);
      this.#log = [...this.#log.slice(-(LOG_LINES - 1)), line];
      return;
    }
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

  /** Why the last tag save was refused (shown beside the tag editor), or null. */
  get tagsError(): string | null {
    return this.#tagsError;
  }
  /** Why the last note change was refused (shown beside the notes), or null. */
  get notesError(): string | null {
    return this.#notesError;
  }

  /** Saves the tags; false (and tagsError set) when the lab refuses them, so the editor stays open. */
  async setTags(tags: string[]): Promise<boolean> {
    this.#tagsError = null;
    try {
      const run = await this.#api.setTags({ runId: this.id, tags });
      if (this.#detail) this.#detail = { ...this.#detail, ...run };
      return true;
    } catch (err) {
      this.#tagsError = errorMessage(err);
      return false;
    }
  }

  clearTagsError(): void {
    this.#tagsError = null;
  }

  async addNote(text: string): Promise<boolean> {
    return this.#noteChange(async () => {
      const note = await this.#api.addNote({ runId: this.id, text });
      // a re-read meanwhile may hold the note already
      return (notes) => [...notes.filter((n) => n.id !== note.id), note];
    });
  }

  async updateNote(noteId: number, text: string): Promise<boolean> {
    return this.#noteChange(async () => {
      const note = await this.#api.updateNote({ runId: this.id, noteId, text });
      return (notes) => notes.map((n) => (n.id === noteId ? note : n));
    });
  }

  async deleteNote(noteId: number): Promise<boolean> {
    return this.#noteChange(async () => {
      await this.#api.deleteNote({ runId: this.id, noteId });
      return (notes) => notes.filter((n) => n.id !== noteId);
    });
  }

  /** Calls the lab, then applies the returned edit to the newest detail (it may have been re-read meanwhile). */
  async #noteChange(
    change: () => Promise<(notes: RunDetail['notes']) => RunDetail['notes']>,
  ): Promise<boolean> {
    this.#notesError = null;
    try {
      const edit = await change();
      if (this.#detail) this.#detail = { ...this.#detail, notes: edit(this.#detail.notes) };
      return true;
    } catch (err) {
      this.#notesError = errorMessage(err);
      return false;
    }
  }
}

/**
 * A run's config as a file `qlab run` accepts: kind, name, seed, tags and config; a sweep's parent as the sweep
 * file `qlab sweep <file>` takes (the same with its `axes`, `name.sweep.json`, as the wizard saves it).
 */
export function configFile(d: RunDetail): { filename: string; mimeType: string; content: string } {
  const base =
    (d.name || d.id.slice(0, 8)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
  const body = {
    kind: d.kind,
    name: d.name,
    seed: d.seed,
    tags: d.tags,
    config: d.config,
    ...(d.sweep ? { axes: d.sweep.axes } : {}),
  };
  return {
    filename: d.sweep ? `${base}.sweep.json` : `${base}.json`,
    mimeType: 'application/json',
    content: `${JSON.stringify(body, null, 2)}\n`,
  };
}

/**
 * An error as a sentence for people: the first line without a leading "SomethingError:" class name; the
 * rest (a stack, a cause) is kept as details for a fold.
 */
export function plainError(error: string): { sentence: string; details: string } {
  const lines = error.split('\n');
  let first = lines[0].trim();
  for (let k = 0; k < 3; k++) first = first.replace(/^[A-Z][A-Za-z]*(Error|Exception)(\[[^\]]*\])?:\s*/, '');
  if (first === '') first = 'The run failed without a message.';
  return { sentence: first, details: lines.slice(1).join('\n').trim() };
}
