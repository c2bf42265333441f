// npm run wasm:dump -- [module…] [--out DIR] — the WebAssembly the lab emits by hand (core/util/wasm-asm.ts), printed
// as WAT with its function, parameter and local names (the modules' name sections), by wabt's wasm2wat (the
// `wabt` npm package: WebAssembly's own binary toolkit compiled to wasm; a devDependency, used only here and in
// its test). With no module named, every module; with --out, one <module>.wat file each instead of stdout.
// Modules: state-f32 and state-f64 (the cpu simulator's SIMD kernels, core/quantum/cpu/wasm-module.ts), gemm and gemm-fma (the
// matmul at the production tile sizes, core/nn/wasm/gemm-module.ts DEFAULT_GEOMETRY).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import wabtInit from 'wabt';
import { stateModuleBytes } from '../core/quantum/cpu/wasm-module';
import { DEFAULT_GEOMETRY, gemmModuleBytes } from '../core/nn/wasm/gemm-module';

/** Every hand-emitted module by name, built as production builds it (memory limits only for the dump). */
export const WASM_MODULES: Record<string, () => Uint8Array<ArrayBuffer>> = {
  'state-f32': () => stateModuleBytes({ min: 1, max: 16384 }, 'f32'),
  'state-f64': () => stateModuleBytes({ min: 1, max: 16384 }, 'f64'),
  gemm: () => gemmModuleBytes(DEFAULT_GEOMETRY, { min: 1, max: 16384, shared: true }),
  'gemm-fma': () => gemmModuleBytes(DEFAULT_GEOMETRY, { min: 1, max: 16384, shared: true }, { fma: true }),
};

/** The proposals the modules use beyond the MVP: SIMD, shared memory (threads), relaxed SIMD (FMA). */
const FEATURES = { simd: true, threads: true, relaxed_simd: true };

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Promise<Wabt> | null = null;
const load = (): Promise<Wabt> => (wabt ??= wabtInit());

/** A module's bytes as WAT, names from its name section (wabt's wasm2wat, flat instructions). */
export async function toWat(bytes: Uint8Array): Promise<string> {
  const w = await load();
  const m = w.readWasm(bytes, { readDebugNames: true, ...FEATURES });
  try {
    m.applyNames();
    return m.toText({ foldExprs: false, inlineExport: false });
  } finally {
    m.destroy();
  }
}

/** WAT back to bytes (wabt's wat2wasm), names kept. */
export async function fromWat(wat: string): Promise<Uint8Array<ArrayBuffer>> {
  const w = await load();
  const m = w.parseWat('module.wat', wat, FEATURES);
  try {
    m.resolveNames();
    // validate takes the features too (wabt's typings omit the parameter)
    (m.validate as (features: typeof FEATURES) => void).call(m, FEATURES);
    return new Uint8Array(m.toBinary({ write_debug_names: true }).buffer);
  } finally {
    m.destroy();
  }
}

async function main(argv: string[]): Promise<void> {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : null;
  if (outAt >= 0 && !out) throw new Error('--out: expected a folder');
  const names = argv.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
  for (const n of names)
    if (!(n in WASM_MODULES))
      throw new Error(
        `module: unknown ${JSON.stringify(n)} (known: ${Object.keys(WASM_MODULES).join(', ')})`,
      );
  if (out) mkdirSync(out, { recursive: true });
  for (const name of names.length ? names : Object.keys(WASM_MODULES)) {
    const wat = await toWat(WASM_MODULES[name]());
    if (out) {
      writeFileSync(join(out, `${name}.wat`), wat);
      console.log(`${join(out, `${name}.wat`)}: ${wat.split('\n').length} lines`);
    } else process.stdout.write(`;; ${name}\n${wat}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
