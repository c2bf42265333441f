// queryRuns in plain JS over an array of summaries, built from the renderer's pure table functions
// (matchesSearch, sortRunsBy, groupsOf): the fake API serves it, and the SQL implementation is checked
// against it on the same runs.
import type { RunGroupCount, RunPage, RunQuery, RunSummary } from '../../../core/api/lab-api';
import {
  groupsOf,
  matchesSearch,
  sortRunsBy,
  summaryKeys,
  type RunConfigs,
} from '../../../renderer/src/lib/runs-table';

function inGroup(run: RunSummary, by: 'kind' | 'tag' | 'sweep', value: string): boolean {
  if (by === 'tag') return value === '' ? run.tags.length === 0 : run.tags.includes(value);
  // 'single' (a sweep's own section holds its points, read apart below)
  if (by === 'sweep') return groupsOf(run, 'sweep')[0] === 'single runs';
  return run.kind === value;
}

const newestFirst = (a: RunSummary, b: RunSummary) =>
  a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

export function referenceQueryRuns(runs: readonly RunSummary[], q: RunQuery, configs?: RunConfigs): RunPage {
  const top = runs.filter((r) => r.parentId === null);
  const filtered = top.filter(
    (r) =>
      (q.kind === undefined || r.kind === q.kind) &&
      (q.status === undefined || r.status === q.status) &&
      (q.tag === undefined || r.tags.includes(q.tag)) &&
      matchesSearch(r, q.search ?? ''),
  );
  const sweep = q.group?.by === 'sweep' && q.group.value !== 'single' ? q.group.value : null;
  // A sweep's section: all its points (child runs); the filters chose the parent.
  const matching =
    sweep !== null
      ? runs.filter((r) => r.parentId === sweep)
      : q.group
        ? filtered.filter((r) => inGroup(r, q.group!.by, q.group!.value))
        : filtered;
  const sorted = sortRunsBy(matching, q.sort ?? 'created', q.dir ?? 'desc', configs);
  const offset = q.offset ?? 0;
  const page: RunPage = {
    total: sorted.length,
    all: top.length,
    offset,
    runs: sorted.slice(offset, offset + (q.limit ?? 100)),
  };
  if (q.withGroups) {
    const by = q.withGroups;
    const counts = new Map<string, number>();
    for (const r of filtered) {
      if (by === 'sweep' && r.childCount > 0) continue;
      const values = by === 'kind' ? [r.kind] : by === 'tag' ? (r.tags.length ? r.tags : ['']) : ['single'];
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const groups: RunGroupCount[] = [...counts].map(([value, count]) => ({ value, count }));
    const rank = (v: string) => (v === '' ? 1 : 0);
    groups.sort(
      (a, b) => rank(a.value) - rank(b.value) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
    );
    // By sweep: one group per matching parent, newest first, counting its points; then the single runs.
    const sweeps: RunGroupCount[] =
      by === 'sweep'
        ? filtered
            .filter((r) => r.childCount > 0)
            .sort(newestFirst)
            .map((run) => ({
              value: run.id,
              count: runs.filter((c) => c.parentId === run.id).length,
              run,
            }))
        : [];
    page.groups = [...sweeps, ...groups];
  }
  if (q.withIds) page.ids = sorted.map((r) => r.id);
  if (q.withFacets) {
    page.kinds = [...new Set(top.map((r) => r.kind))].sort();
    page.tags = [...new Set(top.flatMap((r) => r.tags))].sort();
  }
  if (q.withSummaryKeys) page.summaryKeys = summaryKeys(sortRunsBy(filtered, 'created', 'desc'));
  return page;
}
