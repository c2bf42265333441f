// The runs list: loaded once, then kept live by run-created/run-updated events; filter, search, sort, groups,
// chosen columns and selection. Top-level runs only; a parent's children are fetched when the user expands it
// and shown under it. The table virtualises its rows, so `rows` may hold 10,000 runs.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { LabApi, LabEvent, RunStatus, RunSummary } from '../../../core/api/lab-api';
import {
  configKeys,
  groupRuns,
  matchesSearch,
  queuePlaces,
  sortRunsBy,
  summaryKeys,
  type GroupBy,
  type RunConfigs,
  type SortDir,
} from '../lib/runs-table';

/** Runs fetched by one load: the API's cap. */
export const LOAD_LIMIT = 10_000;
/** The first load fetches this many newest runs first, so the first screen does not wait for 10,000. */
export const FIRST_SCREEN = 100;

export interface RunFilter {
  kind: string;
  status: RunStatus | '';
  tag: string;
}

/** One row of the runs table: a top-level run (depth 0), one of its children (depth 1), or a group's header. */
export type RunRow =
  { kind: 'run'; run: RunSummary; depth: 0 | 1 } | { kind: 'group'; label: string; count: number };

export class RunsState {
  readonly #api: LabApi;
  #runs = $state.raw<RunSummary[]>([]);
  #selected = $state.raw<ReadonlySet<string>>(new Set());
  /** Children per parent id, oldest first; present only for parents expanded at least once. */
  #children = $state.raw<ReadonlyMap<string, RunSummary[]>>(new Map());
  #expanded = $state.raw<ReadonlySet<string>>(new Set());
  /** Flattened configs of the runs whose config columns were asked for (fetched when the chooser opens). */
  #configs = $state.raw<RunConfigs>(new Map());
  #configsWanted = false;
  #loading = $state(false);
  #error = $state<string | null>(null);
  filter = $state<RunFilter>({ kind: '', status: '', tag: '' });
  /** Free text: every word must appear in the run's name, kind, status, tags, id or summary keys. */
  search = $state('');
  sortColumn = $state('created');
  sortDir = $state<SortDir>('desc');
  groupBy = $state<GroupBy>('');
  /** Chosen extra columns: summary keys, and config fields as `config:<path>` (the column chooser). */
  extraColumns = $state.raw<readonly string[]>([]);

  constructor(api: LabApi) {
    this.#api = api;
  }

  get runs(): RunSummary[] {
    return this.#runs;
  }
  get selected(): ReadonlySet<string> {
    return this.#selected;
  }
  get loading(): boolean {
    return this.#loading;
  }
  get error(): string | null {
    return this.#error;
  }
  get expanded(): ReadonlySet<string> {
    return this.#expanded;
  }
  get configs(): RunConfigs {
    return this.#configs;
  }
  childrenOf(parentId: string): RunSummary[] {
    return this.#children.get(parentId) ?? [];
  }

  readonly visible = $derived.by(() => {
    const { kind, status, tag } = this.filter;
    const query = this.search;
    const kept = this.#runs.filter(
      (r) =>
        (!kind || r.kind === kind) &&
        (!status || r.status === status) &&
        (!tag || r.tags.includes(tag)) &&
        matchesSearch(r, query),
    );
    return sortRunsBy(kept, this.sortColumn, this.sortDir, this.#configs);
  });
  /** Queued runs' places in the queue (1 = next). */
  readonly queuePlace = $derived.by(() => queuePlaces(this.#runs));
  /** Summary keys the column chooser offers (of the filtered kind when one is chosen). */
  readonly summaryKeys = $derived.by(() => summaryKeys(this.#runs, this.filter.kind));
  /** Config fields the column chooser offers, as `config:<path>` (of the filtered kind when one is chosen). */
  readonly configKeys = $derived.by(() => configKeys(this.#runs, this.#configs, this.filter.kind));
  readonly kinds = $derived.by(() => [...new Set(this.#runs.map((r) => r.kind))].sort());
  readonly tags = $derived.by(() => [...new Set(this.#runs.flatMap((r) => r.tags))].sort());
  /** Whether any run may still change (a periodic re-sync covers events missed while disconnected). */
  readonly hasActive = $derived.by(() =>
    this.#runs.some((r) => r.status === 'queued' || r.status === 'running'),
  );
  /** The table's rows: each visible run, followed by its children when it is expanded. */
  readonly rows = $derived.by((): RunRow[] => {
    const withChildren = (runs: readonly RunSummary[]): RunRow[] =>
      runs.flatMap((run): RunRow[] => [
        { kind: 'run', run, depth: 0 },
        ...(this.#expanded.has(run.id) ? this.childrenOf(run.id) : []).map((c): RunRow => ({
          kind: 'run',
          run: c,
          depth: 1,
        })),
      ]);
    if (!this.groupBy) return withChildren(this.visible);
    return groupRuns(this.visible, this.groupBy).flatMap((g): RunRow[] => [
      { kind: 'group', label: g.label, count: g.runs.length },
      ...withChildren(g.runs),
    ]);
  });
  /** Whether every visible run is selected. */
  readonly allSelected = $derived.by(
    () => this.visible.length > 0 && this.visible.every((r) => this.#selected.has(r.id)),
  );
  /** Selected ids in table order (children included), so compare/export list runs as the user sees them. */
  readonly selectedIds = $derived.by(() => {
    const all = this.#runs.flatMap((r) => [r, ...(this.#children.get(r.id) ?? [])]);
    return all.filter((r) => this.#selected.has(r.id)).map((r) => r.id);
  });

  async load(): Promise<void> {
    this.#loading = true;
    try {
      if (this.#runs.length === 0) {
        const first = await this.#api.listRuns({ limit: FIRST_SCREEN });
        if (this.#runs.length === 0) this.#runs = sortRuns(first);
        if (first.length < FIRST_SCREEN) {
          this.#error = null;
          return;
        }
      }
      const fresh = await this.#api.listRuns({ limit: LOAD_LIMIT });
      this.#runs = sortRuns(fresh);
      // Re-sync the children on show; the others are fetched again when expanded.
      const next = new Map<string, RunSummary[]>();
      for (const id of this.#expanded) next.set(id, await this.#fetchChildren(id));
      this.#children = next;
      if (this.#configsWanted) await this.loadConfigs();
      this.#error = null;
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#loading = false;
    }
  }

  /**
   * Fetches the configs of listed runs not fetched yet (new runs too, from then on); the column chooser
   * calls it when it opens, so the first screen never waits for 10,000 configs.
   */
  async loadConfigs(): Promise<void> {
    this.#configsWanted = true;
    const missing = this.#runs.filter((r) => !this.#configs.has(r.id)).map((r) => r.id);
    if (missing.length === 0) return;
    try {
      const got = await this.#api.getRunConfigs({ ids: missing.slice(0, LOAD_LIMIT) });
      const next = new Map(this.#configs);
      for (const c of got) next.set(c.runId, c.fields);
      this.#configs = next;
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    }
  }

  async #fetchChildren(parentId: string): Promise<RunSummary[]> {
    return sortChildren(await this.#api.listRuns({ parentId, limit: 10_000 }));
  }

  /** Shows or hides a parent's children, fetching them the first time. */
  async toggleExpanded(parentId: string, on?: boolean): Promise<void> {
    const open = on ?? !this.#expanded.has(parentId);
    const next = new Set(this.#expanded);
    if (open) next.add(parentId);
    else next.delete(parentId);
    this.#expanded = next;
    if (!open || this.#children.has(parentId)) return;
    try {
      const kids = await this.#fetchChildren(parentId);
      this.#children = new Map(this.#children).set(parentId, kids);
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Applies one live event; returns true when the list changed. */
  applyEvent(event: LabEvent): boolean {
    if (event.type !== 'run-created' && event.type !== 'run-updated') return false;
    const run = event.run;
    if (run.parentId !== null) {
      // A child: kept only under a parent whose children this client has fetched (the parent's own update
      // carries the new child count).
      const kids = this.#children.get(run.parentId);
      if (!kids) return false;
      const j = kids.findIndex((r) => r.id === run.id);
      const nextKids = j < 0 ? sortChildren([...kids, run]) : kids.map((r, k) => (k === j ? run : r));
      this.#children = new Map(this.#children).set(run.parentId, nextKids);
      return true;
    }
    const i = this.#runs.findIndex((r) => r.id === run.id);
    if (i < 0) {
      this.#runs = sortRuns([run, ...this.#runs]);
      if (this.#configsWanted) void this.loadConfigs();
    } else {
      const next = this.#runs.slice();
      next[i] = run;
      this.#runs = next;
    }
    return true;
  }

  toggle(id: string, on?: boolean): void {
    const next = new Set(this.#selected);
    if (on ?? !next.has(id)) next.add(id);
    else next.delete(id);
    this.#selected = next;
  }

  /** Selects every visible run (after filter and search), or clears them all. */
  selectAll(on: boolean): void {
    const next = new Set(this.#selected);
    for (const r of this.visible) {
      if (on) next.add(r.id);
      else next.delete(r.id);
    }
    this.#selected = next;
  }

  /** Sorts by a column; the same column again flips the direction. */
  sortBy(column: string): void {
    if (this.sortColumn === column) this.sortDir = this.sortDir === 'asc' ? 'desc' : 'asc';
    else {
      this.sortColumn = column;
      this.sortDir = column === 'name' || column === 'kind' || column === 'tags' ? 'asc' : 'desc';
    }
  }

  /** Shows or hides a summary figure as a column. */
  toggleColumn(key: string, on?: boolean): void {
    const has = this.extraColumns.includes(key);
    if (on ?? !has) {
      if (!has) this.extraColumns = [...this.extraColumns, key];
    } else this.extraColumns = this.extraColumns.filter((k) => k !== key);
  }

  clearSelection(): void {
    this.#selected = new Set();
  }
}

/** A sweep's children in the order it made them (oldest first). */
function sortChildren(runs: RunSummary[]): RunSummary[] {
  return runs
    .slice()
    .sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? -1 : 1,
    );
}

/** Newest first; ids break ties so the order is stable. */
function sortRuns(runs: RunSummary[]): RunSummary[] {
  return runs
    .slice()
    .sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? 1 : -1,
    );
}
