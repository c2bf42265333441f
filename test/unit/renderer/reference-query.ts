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

const GROUP_LABEL = { sweeps: 'sweeps', single: 'single runs' } as const;

function inGroup(run: RunSummary, by: 'kind' | 'tag' | 'sweep', value: string): boolean {
  if (by === 'tag') return value === '' ? run.tags.length === 0 : run.tags.includes(value);
  if (by === 'sweep') return groupsOf(run, 'sweep')[0] === GROUP_LABEL[value as keyof typeof GROUP_LABEL];
  return run.kind === value;
}

export function referenceQueryRuns(runs: readonly RunSummary[], q: RunQuery, configs?: RunConfigs): RunPage {
  const top = runs.filter((r) => r.parentId === null);
  const filtered = top.filter(
    (r) =>
      (q.kind === undefined || r.kind === q.kind) &&
      (q.status === undefined || r.status === q.status) &&
      (q.tag === undefined || r.tags.includes(q.tag)) &&
      matchesSearch(r, q.search ?? ''),
  );
  const matching = q.group ? filtered.filter((r) => inGroup(r, q.group!.by, q.group!.value)) : filtered;
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
      const values =
        by === 'kind'
          ? [r.kind]
          : by === 'tag'
            ? r.tags.length
              ? r.tags
              : ['']
            : [r.childCount > 0 ? 'sweeps' : 'single'];
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const groups: RunGroupCount[] = [...counts].map(([value, count]) => ({ value, count }));
    const rank = (v: string) => (by === 'sweep' ? (v === 'sweeps' ? 0 : 1) : v === '' ? 1 : 0);
    groups.sort(
      (a, b) => rank(a.value) - rank(b.value) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
    );
    page.groups = groups;
  }
  if (q.withIds) page.ids = sorted.map((r) => r.id);
  if (q.withFacets) {
    page.kinds = [...new Set(top.map((r) => r.kind))].sort();
    page.tags = [...new Set(top.flatMap((r) => r.tags))].sort();
  }
  if (q.withSummaryKeys) page.summaryKeys = summaryKeys(sortRunsBy(filtered, 'created', 'desc'));
  return page;
}
