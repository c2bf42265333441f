// Starting a worker thread on a module's own file: the built .js as it is, or (running from the sources, as the
// tests and `npm start` do) the .ts file through tsx's ESM loader, registered inside the new thread.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type Transferable } from 'node:worker_threads';

export function startThread(url: URL, workerData?: unknown, transferList?: Transferable[]): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData, transferList });
  // the ESM build of tsx's API (its CommonJS entry cannot register the ESM hooks from a worker)
  const pkg = createRequire(url).resolve('tsx/package.json');
  const api = pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData, transferList });
}
