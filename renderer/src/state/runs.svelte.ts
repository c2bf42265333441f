// The runs list: loaded once, then kept live by run-created/run-updated events; filter and selection.
/* eslint-disable svelte/prefer-svelte-reactivity -- collections here are built fresh and assigned to $state.raw, never mutated in place */
import type { LabApi, LabEvent, RunStatus, RunSummary } from '../../../core/api/lab-api';

export interface RunFilter {
  kind: string;
  status: RunStatus | '';
  tag: string;
}

export class RunsState {
  readonly #api: LabApi;
  #runs = $state.raw<RunSummary[]>([]);
  #selected = $state.raw<ReadonlySet<string>>(new Set());
  #loading = $state(false);
  #error = $state<string | null>(null);
  filter = $state<RunFilter>({ kind: '', status: '', tag: '' });

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

  readonly visible = $derived.by(() => {
    const { kind, status, tag } = this.filter;
    return this.#runs.filter(
      (r) => (!kind || r.kind === kind) && (!status || r.status === status) && (!tag || r.tags.includes(tag)),
    );
  });
  readonly kinds = $derived.by(() => [...new Set(this.#runs.map((r) => r.kind))].sort());
  readonly tags = $derived.by(() => [...new Set(this.#runs.flatMap((r) => r.tags))].sort());
  /** Whether any run may still change (a periodic re-sync covers events missed while disconnected). */
  readonly hasActive = $derived.by(() =>
    this.#runs.some((r) => r.status === 'queued' || r.status === 'running'),
  );
  /** Selected ids in table order, so compare/export list runs as the user sees them. */
  readonly selectedIds = $derived.by(() =>
    this.#runs.filter((r) => this.#selected.has(r.id)).map((r) => r.id),
  );

  async load(): Promise<void> {
    this.#loading = true;
    try {
      const fresh = await this.#api.listRuns({ limit: 1000 });
      this.#runs = sortRuns(fresh);
      this.#error = null;
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#loading = false;
    }
  }

  /** Applies one live event; returns true when the list changed. */
  applyEvent(event: LabEvent): boolean {
    if (event.type !== 'run-created' && event.type !== 'run-updated') return false;
    const run = event.run;
    const i = this.#runs.findIndex((r) => r.id === run.id);
    if (i < 0) {
      this.#runs = sortRuns([run, ...this.#runs]);
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

  clearSelection(): void {
    this.#selected = new Set();
  }
}

/** Newest first; ids break ties so the order is stable. */
function sortRuns(runs: RunSummary[]): RunSummary[] {
  return runs
    .slice()
    .sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? 1 : -1,
    );
}
