// Resolves the job kinds available to this process: the static registry, plus (for tests and experiments)
// the kinds exported by the module named in QLAB_EXTRA_KINDS. The service and the worker both use this,
// so the kinds the service validates against are the kinds the worker can run.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobKind } from '../methods/job';
import { listJobKinds } from '../methods/registry';

export const EXTRA_KINDS_ENV = 'QLAB_EXTRA_KINDS';

function isJobKind(x: unknown): x is JobKind {
  if (typeof x !== 'object' || x === null) return false;
  const k = x as Record<string, unknown>;
  return (
    typeof k.kind === 'string' &&
    typeof k.title === 'string' &&
    typeof k.run === 'function' &&
    typeof k.schema === 'object' &&
    k.schema !== null &&
    typeof (k.schema as { safeParse?: unknown }).safeParse === 'function'
  );
}

export async function loadJobKinds(
  extraModule = process.env[EXTRA_KINDS_ENV],
): Promise<Map<string, JobKind>> {
  const kinds = new Map<string, JobKind>();
  for (const k of listJobKinds()) kinds.set(k.kind, k);
  if (extraModule) {
    if (!isAbsolute(extraModule))
      throw new Error(`${EXTRA_KINDS_ENV} must be an absolute path: ${extraModule}`);
    const mod = (await import(pathToFileURL(extraModule).href)) as { kinds?: unknown };
    if (!Array.isArray(mod.kinds))
      throw new Error(`${EXTRA_KINDS_ENV} module ${extraModule} must export kinds: JobKind[]`);
    mod.kinds.forEach((k: unknown, i: number) => {
      if (!isJobKind(k))
        throw new Error(`${EXTRA_KINDS_ENV} module ${extraModule}: kinds[${i}] is not a JobKind`);
      kinds.set(k.kind, k);
    });
  }
  return kinds;
}
