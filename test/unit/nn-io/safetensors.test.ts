import { describe, expect, it } from 'vitest';
import {
  bf16ToFloat,
  floatToBf16,
  floatToHalf,
  halfToFloat,
  parseSafetensors,
  serializeSafetensors,
  type TensorToWrite,
} from '../../../core/nn/safetensors';

/** Builds a file by hand: length prefix, header text, data bytes. */
function handFile(header: string, data: number[]): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function bytesOfF32(xs: number[]): number[] {
  return [...new Uint8Array(new Float32Array(xs).buffer)];
}

describe('half-precision conversions', () => {
  it('encodes known binary16 bit patterns with round-to-nearest-even', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // halfway to the next (absent) value rounds up to Inf
    expect(floatToHalf(65519)).toBe(0x7bff);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(2 ** -25)).toBe(0x0000); // tie between 0 and 2^-24 goes to even (0)
    expect(floatToHalf(1.5 * 2 ** -25)).toBe(0x0001);
    expect(floatToHalf(2 ** -14)).toBe(0x0400);
    expect(floatToHalf(2 ** -14 - 2 ** -25)).toBe(0x0400); // subnormal rounding carries into the normal range
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even mantissa (up)
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(Infinity)).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });

  it('decodes every finite half and re-encodes it to the same bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >> 10) & 0x1f;
      if (exp === 31) continue;
      expect(floatToHalf(halfToFloat(h))).toBe(h);
    }
  });

  it('rounds bfloat16 to nearest even and keeps NaN a NaN', () => {
    expect(floatToBf16(1)).toBe(0x3f80);
    expect(floatToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(floatToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(floatToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(bf16ToFloat(0x3f81)).toBe(1 + 2 ** -7);
    expect(Number.isNaN(bf16ToFloat(floatToBf16(NaN)))).toBe(true);
  });
});

describe('safetensors reader and writer', () => {
  it('writes byte-for-byte the file built by hand', () => {
    const header = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    const expected = handFile(padded, bytesOfF32([1.5, -2]));
    const written = serializeSafetensors([['a', { dtype: 'F32', shape: [2], data: [1.5, -2] }]], {
      format: 'pt',
    });
    expect([...written]).toEqual([...expected]);
    const back = parseSafetensors(expected);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors.get('a')!.data]).toEqual([1.5, -2]);
  });

  it('reads F16 and BF16 bytes laid out by hand', () => {
    // F16 1.0 = 0x3c00, -0.5 = 0xb800; BF16 3.0 = 0x4040 — little-endian bytes.
    const header =
      '{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}';
    const f = parseSafetensors(handFile(header, [0x00, 0x3c, 0x00, 0xb8, 0x40, 0x40]));
    expect([...f.tensors.get('h')!.data]).toEqual([1, -0.5]);
    expect([...f.tensors.get('b')!.data]).toEqual([3]);
    expect(f.tensors.get('h')!.dtype).toBe('F16');
  });

  it('round-trips every dtype, unaligned offsets included', () => {
    const f32 = Float32Array.from({ length: 7 }, (_, i) => Math.sin(i) * 10 ** (i - 3));
    const halfExact = Float32Array.from([0, 1, -1, 0.5, 2048, 2 ** -24, -65504]);
    const tensors: [string, TensorToWrite][] = [
      ['odd', { dtype: 'F16', shape: [1], data: [0.25] }], // 2 bytes: later tensors start unaligned
      ['f32', { dtype: 'F32', shape: [7], data: f32 }],
      ['f64', { dtype: 'F64', shape: [2, 2], data: [Math.PI, -Math.E, 1e-300, 1e300] }],
      ['f16', { dtype: 'F16', shape: [7], data: halfExact }],
      ['bf16', { dtype: 'BF16', shape: [3], data: [1, -2.5, 256] }],
      ['i32', { dtype: 'I32', shape: [3], data: [0, -7, 2147483647] }],
      ['i64', { dtype: 'I64', shape: [2], data: BigInt64Array.from([-1n, 1n << 60n]) }],
      ['empty', { dtype: 'F32', shape: [0, 3], data: [] }],
    ];
    const bytes = serializeSafetensors(tensors, { note: 'x' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'x' });
    expect([...back.tensors.keys()]).toEqual(tensors.map((t) => t[0]));
    for (const [name, t] of tensors) {
      const got = back.tensors.get(name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
    }
    // A second write of what was read gives the same bytes.
    const again = serializeSafetensors([...back.tensors.entries()], back.metadata);
    expect([...again]).toEqual([...bytes]);
  });

  it('rounds F32 data written as F16 within half an ulp', () => {
    const xs = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i * 0.37) * 3);
    const back = parseSafetensors(serializeSafetensors([['w', { dtype: 'F16', shape: [1000], data: xs }]]));
    const got = back.tensors.get('w')!.data as Float32Array;
    for (let i = 0; i < xs.length; i++) {
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(xs[i]))) - 10);
      expect(Math.abs(got[i] - xs[i])).toBeLessThanOrEqual(ulp / 2);
    }
  });
});

describe('safetensors errors name the problem', () => {
  const good = serializeSafetensors([
    ['w', { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] }],
    ['b', { dtype: 'F32', shape: [2], data: [5, 6] }],
  ]);

  it('refuses files shorter than the length prefix', () => {
    expect(() => parseSafetensors(new Uint8Array(5), 'm.safetensors')).toThrow(
      /m\.safetensors: truncated safetensors file: 5 bytes/,
    );
  });

  it('refuses a header length beyond the file', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setBigUint64(0, 10_000n, true);
    expect(() => parseSafetensors(bad)).toThrow(/header length 10000 extends beyond the file/);
  });

  it('refuses a truncated data section, naming the tensor', () => {
    expect(() => parseSafetensors(good.subarray(0, good.length - 4))).toThrow(
      /tensor "b": data_offsets \[16, 24\] run past the data section \(20 bytes\)/,
    );
  });

  it('refuses overlapping offsets, naming both tensors', () => {
    const h =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"c":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(() => parseSafetensors(handFile(h, new Array(12).fill(0)))).toThrow(
      /tensor "c".*overlap tensor "a"/,
    );
  });

  it('refuses a shape that does not match the byte size', () => {
    const h = '{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}';
    expect(() => parseSafetensors(handFile(h, new Array(8).fill(0)))).toThrow(
      /tensor "a": shape \[3\] of F16 needs 6 bytes but data_offsets cover 8/,
    );
  });

  it('refuses an unknown dtype, naming the tensor', () => {
    const h = '{"q":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}';
    expect(() => parseSafetensors(handFile(h, [0]))).toThrow(
      /tensor "q": unknown or unsupported dtype "F8_E4M3"/,
    );
  });

  it('refuses a header that is not JSON', () => {
    expect(() => parseSafetensors(handFile('{"a": nope}', []))).toThrow(/header is not valid UTF-8 JSON/);
  });

  it('refuses writing data whose length disagrees with the shape', () => {
    expect(() => serializeSafetensors([['w', { dtype: 'F32', shape: [3], data: [1, 2] }]])).toThrow(
      /tensor "w": shape \[3\] holds 3 elements but data has 2/,
    );
  });
});
