// The simulator's synchronous row pool from the electron-vite bundle, in a plain Node process (no TypeScript
// loader): its workers start on the bundled cpu-threads.js entry and split a vjp into rows that equal one thread's.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, buildUnavailable, type BuiltApp } from './build-output';

const unavailable = buildUnavailable();
if (unavailable) console.warn(`skipping the bundled sync-pool test: ${unavailable}`);

/** The chunk exporting `names`, with the (minified) name each is exported as. */
function chunkExporting(dir: string, names: string[]): { file: string; as: Record<string, string> } {
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    const block = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(text)?.[1] ?? '';
    const as: Record<string, string> = {};
    for (const m of block.matchAll(/(\w+)\s+as\s+(\w+)/g)) as[m[1]] = m[2];
    if (names.every((n) => as[n])) return { file: join(dir, f), as };
  }
  throw new Error(`no chunk in ${dir} exports ${names.join(', ')}`);
}

describe.skipIf(unavailable !== null)('bundled synchronous row pool', () => {
  let app: BuiltApp;
  beforeAll(() => {
    app = buildApp();
  }, 180_000);
  afterAll(() => rmSync(app.out, { recursive: true, force: true }));

  it('runs on the bundled thread entry without a TypeScript loader and equals one thread', () => {
    const run = chunkExporting(join(app.out, 'main', 'chunks'), ['CircuitBuilder', 'compile', 'vjpRows']);
    const script = join(app.out, 'sync-probe.mjs');
    writeFileSync(
      script,
      `import { createSyncRowPool } from ${JSON.stringify(pathToFileURL(app.cpuThreads).href)};
import { ${run.as.CircuitBuilder} as CircuitBuilder, ${run.as.compile} as compile, ${run.as.vjpRows} as vjpRows }
  from ${JSON.stringify(pathToFileURL(run.file).href)};
const b = new CircuitBuilder(6, 6);
for (let w = 0; w < 6; w++) b.gate('RY', [w], [b.x(w)]).gate('RZ', [w], [b.p()]);
for (let w = 0; w < 6; w++) b.gate('CNOT', [w, (w + 1) % 6]).gate('RX', [w], [b.p()]);
const c = b.build();
const prog = compile(c);
const B = 200;
const params = Float64Array.from({ length: c.numParams }, (_, i) => Math.sin(i + 1));
const inputs = Float32Array.from({ length: B * 6 }, (_, i) => Math.cos(i));
const g = Float64Array.from({ length: B * 6 }, (_, i) => Math.sin(3 * i));
const pool = await createSyncRowPool(2);
const req = { circuit: c, params, inputs, batch: B };
const parts = pool.vjp(prog, 'f32', req, g, [[0, 96], [96, 192], [192, 200]]);
const one = vjpRows(prog, 'f32', params, inputs, g, 0, B);
const diff = ['expvals', 'norms', 'dInputs', 'dParamChunks'].filter((k) => {
  const a = parts.flatMap((p) => Array.from(p[k]));
  return a.length !== one[k].length || a.some((v, i) => !Object.is(v, one[k][i]));
});
pool.close();
process.stdout.write(diff.length ? 'differ: ' + diff.join(', ') : 'equal');
`,
    );
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toBe('equal');
  }, 70_000);
});
