// Issue 13, "the lab process must not die" / stale heartbeats: the real `qlab serve` is killed with SIGKILL in
// the middle of a run and started again on the same lab within 15 s — before the run's last heartbeat is stale,
// so the check at open cannot catch it. The periodic check (LabService.watchStale) must then mark the run
// `interrupted` once its heartbeat passes 15 s, instead of leaving it `running` for good (36 s and more
// observed before the periodic check existed).
import { afterAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../core/api/lab-api';
import { join } from 'node:path';
import { EXTRA_KINDS_ENV } from '../../../core/lab/kinds';
import { Store } from '../../../core/lab/store';
import { LAB_KINDS_FIXTURE, pollFor } from '../../helpers/lab';
import { LabServer } from '../../helpers/lab-server';

const first = new LabServer('qlab-kill9-');
const second = new LabServer('qlab-kill9-');
const env = { [EXTRA_KINDS_ENV]: LAB_KINDS_FIXTURE };

afterAll(async () => {
  await first.kill();
  await second.stop(); // removes the shared lab dir
});

describe('qlab serve killed with -9 mid-run and restarted within 15 s', () => {
  it('marks the run interrupted through the periodic stale check', async () => {
    await first.start(undefined, { env });
    const run = (await first.api('createRun', {
      kind: 'test-stream',
      name: 'killed mid-run',
      config: { steps: 100_000, delayMs: 50 },
    })) as { id: string };
    // running, with points stored and a heartbeat written
    await pollFor('the run to be running', 30_000, async () => {
      const d = (await first.api('getRun', { id: run.id })) as RunDetail;
      return d.status === 'running' && d.heartbeatAt !== null && d.metrics.length > 0 ? d : null;
    });

    await first.kill();
    const killedAt = Date.now();
    // As if the kill came right after a heartbeat (on a loaded machine the last one may be seconds old, and the
    // check at open would then catch the run, which is not the case under test).
    const store = Store.open(join(first.labDir, 'lab.sqlite'));
    const beatAt = Date.now();
    store.db
      .prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?')
      .run(new Date(beatAt).toISOString(), run.id);
    store.close();
    await second.start(undefined, { env, labDir: first.labDir });
    const restartedAfter = Date.now() - killedAt;
    // the restart came before the heartbeat could be stale: the check at open saw a live-looking run
    expect(restartedAfter).toBeLessThan(15_000);
    const atOpen = (await second.api('getRun', { id: run.id })) as RunDetail;
    expect(atOpen.status).toBe('running');

    const ended = await pollFor('the run to be interrupted', 40_000, async () => {
      const d = (await second.api('getRun', { id: run.id })) as RunDetail;
      return d.status === 'running' ? null : d;
    });
    const after = Date.now() - killedAt;
    expect(ended.status).toBe('interrupted');
    expect(ended.error ?? '').toMatch(/no heartbeat since/);
    // stale 15 s after its last heartbeat (not at once), found by a check every 5 s (then this poll)
    const staleFor = Date.now() - beatAt;
    expect(staleFor).toBeGreaterThanOrEqual(15_000);
    expect(staleFor).toBeLessThan(15_000 + 5_000 + 5_000);
    // the finish stored is the run's last sign of life, not the moment the lab noticed
    expect(ended.finishedAt).toBe(ended.heartbeatAt);
    expect(ended.heartbeatAt).toBe(new Date(beatAt).toISOString());
    expect(after).toBeLessThan(30_000);
    // the restarted server is still serving, and says what it did
    expect(second.log).toContain(`run ${run.id} had no heartbeat`);
    expect(((await second.api('listRuns', {})) as unknown[]).length).toBe(1);
  }, 120_000);
});
