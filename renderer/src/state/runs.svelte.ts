// The runs list as windows the lab sorts, filters, searches and groups (LabApi.queryRuns): the table asks
// for the windows its scroll position shows, so 50,000 stored runs cost what one screen does. Groups (by
// kind, tag or sweep) are sections with counts that fold; a parent's children are fetched when the user
// expands it and shown under it. Live run-created/run-updated events patch the loaded windows and, for a new
// run or a changed status, re-read them.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type {
  LabApi,
  LabEvent,
  RunGroupBy,
  RunPage,
  RunQuery,
  RunStatus,
  RunSummary,
} from '../../../core/api/lab-api';
import { configKeys, queuePlaces, type GroupBy, type RunConfigs, type SortDir } from '../lib/runs-table';

/**
 * Runs one window holds: the first screen asks for one, scrolling for the ones it shows. 50 is a screen and a
 * half (about 30 rows show at 900 px), so the first screen's answer is small.
 */
export const PAGE_SIZE = 50;
/** Rows ahead of (and behind) the shown ones whose windows are asked for too. */
export const PREFETCH_ROWS = 60;
/** Loaded windows kept at most (the farthest from the last asked-for row are dropped first). */
export const MAX_PAGES = 120;
/** A burst of live events (a sweep starting, another process writing) re-reads the windows once, after this. */
export const REFRESH_DEBOUNCE_MS = 100;

export interface RunFilter {
  kind: string;
  status: RunStatus | '';
  tag: string;
}

/** One section of the table: every matching run (no grouping), or one group with its count. */
export interface Section {
  /** '' without grouping; else the group's value as queryRuns takes it ('' = untagged for tags). */
  readonly value: string;
  readonly label: string;
  readonly count: number;
  /** By sweep: the parent run heading the section (its runs are the sweep's points). */
  readonly run?: RunSummary;
}

/**
 * One row of the table: a top-level run (depth 0; `run` undefined while its window loads), one of its
 * children (depth 1), or a group's header.
 */
export type RunRow =
  | { kind: 'run'; run: RunSummary | undefined; depth: 0 | 1 }
  | { kind: 'group'; value: string; label: string; count: number; collapsed: boolean; run?: RunSummary };

/** A block of consecutive rows: a group header, a stretch of a section's runs, or an expanded parent's children. */
type Block =
  | { start: number; type: 'header'; section: number }
  | { start: number; type: 'runs'; section: number; from: number; count: number }
  | { start: number; type: 'children'; parentId: string; count: number };

export function groupLabel(by: GroupBy, value: string): string {
  if (by === 'tag' && value === '') return 'untagged';
  if (by === 'sweep') return value === 'single' ? 'single runs' : `sweep ${value.slice(0, 8)}`;
  return value;
}

export class RunsState {
  readonly #api: LabApi;
  /** Loaded windows by `<section index>:<page>`, for the query of `#generation`. */
  #pages = $state.raw<ReadonlyMap<string, readonly RunSummary[]>>(new Map());
  #sections = $state.raw<readonly Section[]>([]);
  #all = $state(0);
  #kinds = $state.raw<readonly string[]>([]);
  #tags = $state.raw<readonly string[]>([]);
  #serverSummaryKeys = $state.raw<readonly string[]>([]);
  #queued = $state.raw<readonly RunSummary[]>([]);
  #selected = $state.raw<ReadonlySet<string>>(new Set());
  /** The ids select-all took, and for which query: all are selected while none is unticked. */
  #selectAll = $state.raw<{ key: string; ids: readonly string[] } | null>(null);
  /** Children per parent id, oldest first; present only for parents expanded at least once. */
  #children = $state.raw<ReadonlyMap<string, RunSummary[]>>(new Map());
  #expanded = $state.raw<ReadonlySet<string>>(new Set());
  #collapsed = $state.raw<ReadonlySet<string>>(new Set());
  #configs = $state.raw<RunConfigs>(new Map());
  #configsWanted = false;
  #loading = $state(false);
  #error = $state<string | null>(null);
  #generation = 0;
  /** The query the sections and windows belong to (queryKey when they were read). */
  #loadedKey = $state('');
  /** The query of the newest load asked for (loaded or on its way). */
  #requestedKey = $state('');
  #inFlight = new Set<string>();
  /** The windows the last ensureRows covered (the rows in view and those prefetched around them). */
  #shown = new Set<string>();
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #queueTimer: ReturnType<typeof setTimeout> | undefined;
  filter = $state<RunFilter>({ kind: '', status: '', tag: '' });
  /** Free text: every word must appear in the run's name, kind, status, tags, id, error or summary keys. */
  search = $state('');
  sortColumn = $state('created');
  sortDir = $state<SortDir>('desc');
  groupBy = $state<GroupBy>('');
  /** Chosen extra columns: summary keys, and config fields as `config:<path>` (the column chooser). */
  extraColumns = $state.raw<readonly string[]>([]);

  constructor(api: LabApi) {
    this.#api = api;
  }

  /** What the lab is asked for; a change means new sections and windows (RunsPage calls load on it). */
  readonly queryKey = $derived(
    JSON.stringify([
      this.filter.kind,
      this.filter.status,
      this.filter.tag,
      this.search.trim(),
      this.sortColumn,
      this.sortDir,
      this.groupBy,
    ]),
  );

  /** The query the table shows (queryKey at the last load). */
  get loadedKey(): string {
    return this.#loadedKey;
  }
  /** The query of the newest load, loaded or on its way (the page asks again only for another). */
  get requestedKey(): string {
    return this.#requestedKey;
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
  get collapsed(): ReadonlySet<string> {
    return this.#collapsed;
  }
  get configs(): RunConfigs {
    return this.#configs;
  }
  get sections(): readonly Section[] {
    return this.#sections;
  }
  /** Top-level runs in the lab, unfiltered. */
  get all(): number {
    return this.#all;
  }
  get kinds(): readonly string[] {
    return this.#kinds;
  }
  get tags(): readonly string[] {
    return this.#tags;
  }
  childrenOf(parentId: string): RunSummary[] {
    return this.#children.get(parentId) ?? [];
  }

  /** Matching runs (every section). */
  // a sweep's section counts its points, but the sweep is one top-level run
  readonly total = $derived.by(() => this.#sections.reduce((n, s) => n + (s.run ? 1 : s.count), 0));
  /** The loaded top-level runs, in table order (each once, though a run with two tags is in two groups). */
  readonly runs = $derived.by((): RunSummary[] => {
    const keys = [...this.#pages.keys()].sort((a, b) => {
      const [sa, pa] = a.split(':').map(Number);
      const [sb, pb] = b.split(':').map(Number);
      return sa - sb || pa - pb;
    });
    const seen = new Set<string>();
    const out: RunSummary[] = [];
    for (const k of keys)
      for (const r of this.#pages.get(k)!)
        if (!seen.has(r.id)) {
          seen.add(r.id);
          out.push(r);
        }
    return out;
  });
  /** Queued runs' places in the queue (1 = next), over every queued run, loaded or not. */
  readonly queuePlace = $derived.by(() => queuePlaces(this.#queued));
  /** Summary keys the column chooser offers: the lab's, for the filters, then any seen in loaded runs. */
  readonly summaryKeys = $derived.by(() => {
    const keys = new Set(this.#serverSummaryKeys);
    const kind = this.filter.kind;
    for (const r of this.runs)
      if (!kind || r.kind === kind) for (const k of Object.keys(r.summary)) keys.add(k);
    return [...keys];
  });
  /** Config fields the column chooser offers, as `config:<path>` (of the loaded runs, of the filtered kind). */
  readonly configKeys = $derived.by(() => configKeys(this.runs, this.#configs, this.filter.kind));
  /** Whether any loaded run may still change (a periodic re-sync covers events missed while disconnected). */
  readonly hasActive = $derived.by(
    () => this.#queued.length > 0 || this.runs.some((r) => r.status === 'queued' || r.status === 'running'),
  );

  /** The table's rows as blocks: computed from counts and expansions, never one object per stored run. */
  readonly #layout = $derived.by((): { blocks: Block[]; count: number } => {
    const blocks: Block[] = [];
    let at = 0;
    const grouped = this.groupBy !== '';
    this.#sections.forEach((sec, si) => {
      if (grouped) {
        blocks.push({ start: at, type: 'header', section: si });
        at += 1;
        if (this.#collapsed.has(sec.value)) return;
      }
      // Expanded parents loaded in this section split its runs; their children follow them.
      const splits: { index: number; id: string }[] = [];
      for (const id of this.#expanded) {
        const index = this.#indexIn(si, id);
        if (index >= 0) splits.push({ index, id });
      }
      splits.sort((a, b) => a.index - b.index);
      let from = 0;
      for (const s of splits) {
        const n = s.index + 1 - from;
        blocks.push({ start: at, type: 'runs', section: si, from, count: n });
        at += n;
        from = s.index + 1;
        const kids = this.childrenOf(s.id).length;
        if (kids > 0) {
          blocks.push({ start: at, type: 'children', parentId: s.id, count: kids });
          at += kids;
        }
      }
      if (sec.count > from) {
        blocks.push({ start: at, type: 'runs', section: si, from, count: sec.count - from });
        at += sec.count - from;
      }
    });
    return { blocks, count: at };
  });

  /** Rows in the table (group headers, runs loaded or not, expanded children). */
  get rowCount(): number {
    return this.#layout.count;
  }

  #indexIn(section: number, id: string): number {
    for (const [k, runs] of this.#pages) {
      const [s, p] = k.split(':').map(Number);
      if (s !== section) continue;
      const j = runs.findIndex((r) => r.id === id);
      if (j >= 0) return p * PAGE_SIZE + j;
    }
    return -1;
  }

  #blockAt(i: number): Block | undefined {
    const blocks = this.#layout.blocks;
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (blocks[mid].start <= i) lo = mid;
      else hi = mid - 1;
    }
    const b = blocks[lo];
    return b !== undefined && b.start <= i ? b : undefined;
  }

  /** Where row i's run lives: its section and index there (undefined for headers and children). */
  #locate(i: number): { section: number; index: number } | undefined {
    const b = this.#blockAt(i);
    if (b?.type !== 'runs') return undefined;
    return { section: b.section, index: b.from + (i - b.start) };
  }

  /** Row i of the table (undefined past the end). */
  rowAt(i: number): RunRow | undefined {
    if (i < 0 || i >= this.#layout.count) return undefined;
    const b = this.#blockAt(i);
    if (!b) return undefined;
    if (b.type === 'header') {
      const sec = this.#sections[b.section];
      return {
        kind: 'group',
        value: sec.value,
        label: sec.label,
        count: sec.count,
        collapsed: this.#collapsed.has(sec.value),
        ...(sec.run ? { run: sec.run } : {}),
      };
    }
    if (b.type === 'children')
      return { kind: 'run', run: this.childrenOf(b.parentId)[i - b.start], depth: 1 };
    const index = b.from + (i - b.start);
    const page = this.#pages.get(`${b.section}:${Math.floor(index / PAGE_SIZE)}`);
    return { kind: 'run', run: page?.[index % PAGE_SIZE], depth: 0 };
  }

  /** Every row (tests and small tables; the page reads rowAt for the rows it shows). */
  allRows(): RunRow[] {
    return Array.from({ length: this.rowCount }, (_, i) => this.rowAt(i)!);
  }

  #request(extra: Partial<RunQuery> = {}): RunQuery {
    const q: RunQuery = { sort: this.sortColumn, dir: this.sortDir, ...extra };
    if (this.filter.kind) q.kind = this.filter.kind;
    if (this.filter.status) q.status = this.filter.status;
    if (this.filter.tag) q.tag = this.filter.tag;
    if (this.search.trim()) q.search = this.search.trim();
    return q;
  }

  #sectionQuery(section: number, offset: number): RunQuery {
    const sec = this.#sections[section];
    const by = this.groupBy;
    return this.#request({
      offset,
      limit: PAGE_SIZE,
      ...(by && sec ? { group: { by: by as RunGroupBy, value: sec.value } } : {}),
    });
  }

  /**
   * (Re)reads the query's sections, the first window of each, the filters' choices and the queue. With the
   * same query as loaded, the windows already loaded are read again too (a refresh keeps the scroll place).
   */
  async load(): Promise<void> {
    const key = this.queryKey;
    const generation = ++this.#generation;
    this.#requestedKey = key;
    const refresh = key === this.#loadedKey;
    // A refresh re-reads the windows in view only; the others are dropped and read again if scrolled back to
    // (so a new run costs a few requests, not one per window loaded).
    const keep = refresh ? [...this.#pages.keys()].filter((k) => this.#shown.has(k)) : [];
    this.#loading = true;
    try {
      const by = this.groupBy;
      const head = await this.#api.queryRuns(
        this.#request({
          offset: 0,
          limit: by ? 0 : PAGE_SIZE,
          ...(by ? { withGroups: by as RunGroupBy } : {}),
        }),
      );
      if (generation !== this.#generation) return;
      const sections: Section[] = by
        ? (head.groups ?? []).map((g) => ({
            value: g.value,
            label: g.run ? g.run.name || g.run.id.slice(0, 8) : groupLabel(by, g.value),
            count: g.count,
            ...(g.run ? { run: g.run } : {}),
          }))
        : [{ value: '', label: '', count: head.total }];
      const pages = new Map<string, readonly RunSummary[]>();
      if (!by) pages.set('0:0', head.runs);
      this.#all = head.all;
      // Keep the windows of an unchanged query on screen until their fresh copies arrive.
      if (refresh) for (const k of keep) if (!pages.has(k)) pages.set(k, this.#pages.get(k)!);
      this.#sections = sections;
      this.#pages = pages;
      this.#loadedKey = key;
      this.#inFlight.clear();
      if (!refresh) {
        // A select all made for this very query while it loaded stays (the user ticked it for what this
        // load shows); one made for another query goes.
        if (this.#selectAll?.key !== key) this.#selectAll = null;
        this.#collapsed = new Set();
      }
      this.#error = null;
      // The filters' choices and the queue after the first screen, which waits for neither.
      const more: Promise<void>[] = [this.#loadQueue(generation), this.#loadFacets(generation)];
      if (by) sections.forEach((_, si) => more.push(this.#fetchPage(si, 0, generation)));
      for (const k of keep) {
        const [s, p] = k.split(':').map(Number);
        if (!(s === 0 && p === 0 && !by)) more.push(this.#fetchPage(s, p, generation));
      }
      // Re-sync the expanded parents' children; the others are fetched again when expanded.
      if (refresh && this.#expanded.size > 0) {
        const next = new Map<string, RunSummary[]>();
        for (const id of this.#expanded) next.set(id, await this.#fetchChildren(id));
        if (generation === this.#generation) this.#children = next;
      }
      await Promise.all(more);
      if (this.#configsWanted) await this.loadConfigs();
    } catch (err) {
      if (generation === this.#generation) this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      if (generation === this.#generation) this.#loading = false;
    }
  }

  async #loadFacets(generation: number): Promise<void> {
    const f = await this.#api.queryRuns({ limit: 0, withFacets: true });
    if (generation !== this.#generation) return;
    this.#kinds = f.kinds ?? [];
    this.#tags = f.tags ?? [];
  }

  async #loadQueue(generation: number): Promise<void> {
    // Every queued run, a sweep's points too: the scheduler takes them from one queue, oldest first.
    const queued = await this.#api.listRuns({ status: 'queued', includeChildren: true, limit: 10_000 });
    if (generation === this.#generation) this.#queued = queued;
  }

  async #fetchPage(section: number, page: number, generation = this.#generation): Promise<void> {
    const key = `${section}:${page}`;
    const flight = `${generation}/${key}`;
    if (this.#inFlight.has(flight)) return;
    this.#inFlight.add(flight);
    try {
      const got: RunPage = await this.#api.queryRuns(this.#sectionQuery(section, page * PAGE_SIZE));
      if (generation !== this.#generation) return;
      const pages = new Map(this.#pages).set(key, got.runs);
      // A window too many (the user scrolled far): drop the one farthest from this.
      if (pages.size > MAX_PAGES) {
        let far = '';
        let dist = -1;
        for (const k of pages.keys()) {
          const [s, p] = k.split(':').map(Number);
          const d = Math.abs(s - section) * 1e6 + Math.abs(p - page);
          if (d > dist) [far, dist] = [k, d];
        }
        pages.delete(far);
      }
      this.#pages = pages;
      const sec = this.#sections[section];
      if (sec && sec.count !== got.total) {
        // Runs came or went since the count: the section takes the window's count.
        this.#sections = this.#sections.map((s, i) => (i === section ? { ...s, count: got.total } : s));
      }
      if (this.#configsWanted) void this.loadConfigs();
    } catch (err) {
      if (generation === this.#generation) this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#inFlight.delete(flight);
    }
  }

  /**
   * Asks for the windows rows `first`…`last` fall in, and those within PREFETCH_ROWS of them, if not loaded
   * or on their way (the page calls it as it scrolls), so a steady scroll finds its next window loaded.
   */
  ensureRows(first: number, last: number): void {
    if (this.#loadedKey !== this.queryKey) return;
    const wanted = new Set<string>();
    const shown = new Set<string>();
    const from = Math.max(0, first - PREFETCH_ROWS);
    const to = Math.min(last + PREFETCH_ROWS, this.rowCount - 1);
    for (let i = from; i <= to; i++) {
      const at = this.#locate(i);
      if (!at) continue;
      const page = Math.floor(at.index / PAGE_SIZE);
      const k = `${at.section}:${page}`;
      shown.add(k);
      if (this.#pages.has(k) || wanted.has(k)) continue;
      wanted.add(k);
      void this.#fetchPage(at.section, page);
    }
    this.#shown = shown;
  }

  /**
   * Fetches the configs of loaded runs not fetched yet (new windows too, from then on); the column chooser
   * calls it when it opens, and asks the lab for every summary key of the matching runs.
   */
  async loadConfigs(): Promise<void> {
    const first = !this.#configsWanted;
    this.#configsWanted = true;
    try {
      if (first) {
        const keys = await this.#api.queryRuns(this.#request({ limit: 0, withSummaryKeys: true }));
        this.#serverSummaryKeys = keys.summaryKeys ?? [];
      }
      const runs = [...this.runs, ...[...this.#children.values()].flat()];
      const missing = runs.filter((r) => !this.#configs.has(r.id)).map((r) => r.id);
      if (missing.length === 0) return;
      const got = await this.#api.getRunConfigs({ ids: missing.slice(0, 10_000) });
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
      if (this.#configsWanted) void this.loadConfigs();
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Folds or unfolds a group's section. */
  toggleGroup(value: string, collapsed?: boolean): void {
    const next = new Set(this.#collapsed);
    if (collapsed ?? !next.has(value)) next.add(value);
    else next.delete(value);
    this.#collapsed = next;
  }

  /** Re-reads the queue (only) once a burst of events is over. */
  #scheduleQueue(): void {
    if (this.#queueTimer !== undefined) return;
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = undefined;
      void this.#loadQueue(this.#generation).catch((err: unknown) => {
        this.#error = err instanceof Error ? err.message : String(err);
      });
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Re-reads the sections and loaded windows once a burst of events is over. */
  #scheduleRefresh(): void {
    if (this.#refreshTimer !== undefined) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      void this.load();
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Applies one live event; returns true when the table changes (now, or at the re-read it schedules). */
  applyEvent(event: LabEvent): boolean {
    if (event.type !== 'run-created' && event.type !== 'run-updated') return false;
    const run = event.run;
    // A run entering or leaving the queue (a sweep's point too) moves every queued run's place.
    if (this.#queued.some((r) => r.id === run.id) !== (run.status === 'queued')) this.#scheduleQueue();
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
    // Patch the run where it is loaded; a new run, or a status change (which moves a run between filters,
    // groups and the queue), re-reads the windows.
    let found = false;
    let moved = false;
    const pages = new Map(this.#pages);
    for (const [k, runs] of pages) {
      const j = runs.findIndex((r) => r.id === run.id);
      if (j < 0) continue;
      found = true;
      const old = runs[j];
      if (
        old.status !== run.status ||
        old.childCount !== run.childCount ||
        old.tags.join() !== run.tags.join()
      )
        moved = true;
      pages.set(
        k,
        runs.map((r, i) => (i === j ? run : r)),
      );
    }
    if (found) this.#pages = pages;
    const queuedBefore = this.#queued.some((r) => r.id === run.id);
    if (queuedBefore !== (run.status === 'queued')) moved = true;
    if (!found || moved) this.#scheduleRefresh();
    return true;
  }

  toggle(id: string, on?: boolean): void {
    const next = new Set(this.#selected);
    if (on ?? !next.has(id)) next.add(id);
    else next.delete(id);
    this.#selected = next;
  }

  /** Selects every matching run (the lab lists their ids, in table order), or clears them. */
  async selectAll(on: boolean): Promise<void> {
    const key = this.queryKey;
    try {
      const ids =
        this.#selectAll?.key === key
          ? this.#selectAll.ids
          : ((await this.#api.queryRuns(this.#request({ limit: 0, withIds: true }))).ids ?? []);
      if (key !== this.queryKey) return;
      const next = new Set(this.#selected);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      this.#selectAll = { key, ids };
      this.#selected = next;
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Whether select-all took every matching run and none has been unticked since. */
  readonly allSelected = $derived.by(() => {
    const sa = this.#selectAll;
    if (!sa || sa.key !== this.queryKey || sa.ids.length === 0) return false;
    return sa.ids.every((id) => this.#selected.has(id));
  });
  /**
   * Selected ids in table order as far as the table is loaded (children after their parent), then the
   * others in the order they were selected (select-all adds them in table order), so compare and export
   * list runs as the user sees them.
   */
  readonly selectedIds = $derived.by(() => {
    const sel = this.#selected;
    if (sel.size === 0) return [];
    const out: string[] = [];
    const seen = new Set<string>();
    const add = (id: string) => {
      if (sel.has(id) && !seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
    };
    for (const r of this.runs) {
      add(r.id);
      for (const c of this.#children.get(r.id) ?? []) add(c.id);
    }
    for (const id of sel) add(id);
    return out;
  });

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
    this.#selectAll = null;
  }

  /** Stops the pending re-read (the page is gone). */
  dispose(): void {
    if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
    if (this.#queueTimer !== undefined) clearTimeout(this.#queueTimer);
    this.#refreshTimer = undefined;
    this.#queueTimer = undefined;
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
