// The hand-emitted WebAssembly is readable: every module carries a name section (function names; the gemm's
// parameter and local names), `npm run wasm:dump` prints it as WAT through wabt, and that WAT parses back
// (wat → wasm) to a module with the same imports and exports, which prints to the same WAT again.
import { describe, expect, it } from 'vitest';
import { assemble, Fn, I32, V128 } from '../../../core/util/wasm-asm';
import { fromWat, toWat, WASM_MODULES } from '../../../scripts/wasm-dump';

/** The ids of a module's sections, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++]);
    let size = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    at += size;
  }
  expect(at).toBe(bytes.length);
  return ids;
}

/** Imports and exports as the engine sees them, where this runtime compiles the module. */
function surface(bytes: Uint8Array<ArrayBuffer>): unknown {
  const m = new WebAssembly.Module(bytes);
  return { imports: WebAssembly.Module.imports(m), exports: WebAssembly.Module.exports(m) };
}

describe('readable wasm', () => {
  it.each(Object.keys(WASM_MODULES))(
    '%s: names in the dump, and the dump parses back to the same module',
    async (name) => {
      const bytes = WASM_MODULES[name]();
      // the name section is a custom section after every other: the code before it is emitted as before
      expect(sectionIds(bytes)).toEqual([1, 2, 3, 7, 10, 0]);
      const wat = await toWat(bytes);
      // every exported function is printed under its own name
      for (const m of wat.matchAll(/\(export "([^"]+)" \(func (\$[^)]+)\)\)/g)) expect(m[2]).toBe(`$${m[1]}`);
      if (name.startsWith('gemm')) {
        expect(wat).toMatch(/^\(module \$gemm_mr4_nr8_kc256_nc256/);
        expect(wat).toContain('(func $kernel (type 0) (param $ap i32) (param $bp i32)');
        expect(wat).toContain('(local $acc_0_0 v128)');
        expect(wat).toMatch(/local\.get \$kl\b/);
        expect(wat).toContain('(func $gemm ');
        expect(wat).toMatch(/\(param \$scratch i32\)/);
        expect(wat.includes('f32x4.relaxed_madd')).toBe(name === 'gemm-fma');
      } else {
        expect(wat).toContain(
          '(func $gen (type 0) (param $s i32) (param $dim i32) (param $p i32) (param $m0r ',
        );
        expect(wat).toMatch(/\(func \$adj [^\n]*\(param \$out i32\) \(param \$cmask i32\)/);
        expect(wat).toContain('(local $half i32)');
        expect(wat).toContain('(local $M0R v128)');
        expect(wat).toMatch(/local\.get \$stop\b/);
        expect(wat.includes('f64x2.mul')).toBe(name === 'state-f64');
      }
      const back = await fromWat(wat);
      expect(await toWat(back)).toBe(wat);
      const fma = name === 'gemm-fma';
      if (!fma || WebAssembly.validate(bytes)) expect(surface(back)).toEqual(surface(bytes));
    },
  );

  it('local names are unique per function and made valid identifiers; unnamed locals stay unnamed', async () => {
    const f = new Fn('my kernel', [I32, I32]).named('src', 'src');
    const a = f.local(V128, 'acc');
    const b = f.local(V128, 'acc');
    f.local(I32);
    f.get(a).set(b);
    const wat = await toWat(assemble([f], { min: 1, max: 1, shared: false }, 'tiny module'));
    expect(wat).toContain('(module $tiny_module');
    expect(wat).toContain('(func $my_kernel (type 0) (param $src i32) (param $src_1 i32)');
    expect(wat).toMatch(/\(local \$acc v128\) \(local \$acc_3 v128\) \(local i32\)/);
    expect(() => new Fn('k', [I32]).named('a', 'b')).toThrow(/2 parameter names for 1 parameters/);
  });
});
