// A LabService without a scheduler, for commands that only read or cancel. openLab() starts every queued
// run in the store at once, which would make `qlab runs` in a second terminal steal (and, on exit,
// interrupt) runs queued by a live `qlab serve`. This builds the same service from its exported parts and
// never calls pump(); the one thing it launches nothing with is the launcher below.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabError } from '../api/lab-api';
import { loadJobKinds } from '../lab/kinds';
import type { JobLauncher, JobProcess } from '../lab/launcher';
import { LabService } from '../lab/service';
import { Store } from '../lab/store';
import { CliError } from './errors';

const STALE_MS = 15_000;

const noLauncher: JobLauncher = {
  name: 'none',
  spawn(): JobProcess {
    throw new LabError('conflict', 'this lab was opened read-only and runs no jobs');
  },
};

export async function openPassiveLab(labDir: string): Promise<LabService> {
  const dir = resolve(labDir);
  const file = join(dir, 'lab.sqlite');
  // Reading commands do not create a lab: a mistyped --lab-dir should say so, not show an empty one.
  if (!existsSync(file)) throw new CliError(`no lab at ${dir} (no lab.sqlite there; 'qlab run' creates one)`);
  const store = Store.open(file);
  const heartbeatMs = Math.max(50, Math.min(2000, Math.floor(STALE_MS / 4)));
  const service = new LabService(dir, store, await loadJobKinds(), noLauncher, 1, heartbeatMs);
  service.recoverStale(STALE_MS);
  return service;
}
