// V8's relaxed-SIMD flag is given where a process starts (Node documents flag changes after start as undefined
// behaviour, and the flag is process-wide): the engine only feature-detects, and job processes get the flag in
// their execArgv where this Node keeps relaxed SIMD behind it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChildProcessLauncher } from '../../../core/lab/launcher';
import { RELAXED_SIMD_PROBE } from '../../../core/nn/wasm/relaxed-probe';
import { RELAXED_SIMD_FLAG, relaxedSimdExecArgv } from '../../../core/nn/wasm/relaxed-simd';

const PROBE = `new Uint8Array([${Array.from(RELAXED_SIMD_PROBE).join(',')}])`;
const env = { ...process.env, QLAB_WASM_FMA: '' };

function node(execArgv: string[], code: string): string {
  const r = spawnSync(process.execPath, [...execArgv, '--input-type=module', '-e', code], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('relaxed SIMD flag at process start', () => {
  it('building the gemm engine changes no V8 flag: it only feature-detects', () => {
    const gemm = pathToFileURL(resolve('core/nn/wasm/gemm.ts')).href;
    const out = node(
      ['--import', 'tsx'],
      `const { wasmGemm } = await import(${JSON.stringify(gemm)});
       const before = WebAssembly.validate(${PROBE});
       const fma = wasmGemm().fma;
       console.log(JSON.stringify([before, fma, WebAssembly.validate(${PROBE})]));`,
    );
    const [before, fma, after] = JSON.parse(out) as boolean[];
    expect(after).toBe(before); // the old engine switched the flag on here (Node 20: false, then true)
    expect(fma).toBe(before);
  });

  it('a child started with relaxedSimdExecArgv() compiles relaxed SIMD wherever this process does', () => {
    const here = WebAssembly.validate(RELAXED_SIMD_PROBE);
    const bare = node([], `console.log(WebAssembly.validate(${PROBE}))`) === 'true';
    const argv = relaxedSimdExecArgv();
    // the flag only where the runtime needs it (Node 20), none where it is shipped (Node ≥ 22, Electron)
    expect(argv).toEqual(bare ? [] : [RELAXED_SIMD_FLAG]);
    expect(node(argv, `console.log(WebAssembly.validate(${PROBE}))`)).toBe(String(here || bare));
  });

  it("the job launcher's children start with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qlab-relaxed-'));
    try {
      const entry = join(dir, 'entry.mjs');
      writeFileSync(entry, `process.stdout.write(String(WebAssembly.validate(${PROBE})));\n`);
      const child = new ChildProcessLauncher({ entry }).spawn();
      let text = '';
      child.onOutput?.((stream, t) => void (stream === 'stdout' && (text += t)));
      await new Promise<void>((done) => child.onExit(() => done()));
      expect(text).toBe(String(WebAssembly.validate(RELAXED_SIMD_PROBE)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
