// Safetensors reader and writer (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, __metadata__?}, then raw
// little-endian tensor bytes. Pure byte-level code (isomorphic); file I/O lives in checkpoint.ts.

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

/** Decoded tensor data: F32/F16/BF16 → Float32Array, F64 → Float64Array, I32 → Int32Array, I64 → BigInt64Array. */
export type SafetensorData = Float32Array | Float64Array | Int32Array | BigInt64Array;

export interface SafeTensor {
  /** The dtype as stored in the file (or to store, when writing). */
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorData;
}

export interface SafetensorsHeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data section (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Size of the JSON header in bytes (without the 8-byte length prefix). */
  headerLength: number;
  entries: SafetensorsHeaderEntry[];
  metadata: Record<string, string>;
}

export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 };

// Same cap as the reference Rust implementation: a larger header is a corrupt file, not a model.
const MAX_HEADER_BYTES = 100_000_000;

export function dtypeByteSize(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

function where(source: string | undefined): string {
  return source ? `${source}: ` : '';
}

function shapeSize(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reads the 8-byte length prefix; throws a clear error when the file is too short for it or the header. */
export function readHeaderLength(prefix: Uint8Array, fileBytes: number, source?: string): number {
  if (prefix.length < 8 || fileBytes < 8) {
    throw new SafetensorsError(
      `${where(source)}truncated safetensors file: ${fileBytes} bytes, shorter than the 8-byte header length`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(fileBytes - 8)) {
    throw new SafetensorsError(
      `${where(source)}header length ${n} extends beyond the file (${fileBytes} bytes); the file is truncated or not safetensors`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `${where(source)}header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  return Number(n);
}

/**
 * Parses and validates the JSON header. `dataBytes` is the size of the data section (file size − 8 − N);
 * every entry is checked against it, against its shape and dtype, and against overlap with the others.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataBytes: number,
  source?: string,
): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new SafetensorsError(`${where(source)}header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError(`${where(source)}header must be a JSON object`);
  }
  const metadata: Record<string, string> = {};
  const entries: SafetensorsHeaderEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new SafetensorsError(`${where(source)}__metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(`${where(source)}__metadata__.${k} must be a string`);
        }
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(name, raw, dataBytes, source));
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end && cur.end > cur.begin && prev.end > prev.begin) {
      throw new SafetensorsError(
        `${where(source)}tensor "${cur.name}" bytes [${cur.begin}, ${cur.end}) overlap tensor "${prev.name}" [${prev.begin}, ${prev.end})`,
      );
    }
  }
  return { headerLength: headerBytes.length, entries, metadata };
}

function parseEntry(name: string, raw: unknown, dataBytes: number, source?: string): SafetensorsHeaderEntry {
  const at = `${where(source)}tensor "${name}"`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(`${at}: header entry must be an object with dtype, shape, data_offsets`);
  }
  const r = raw as Record<string, unknown>;
  if (!isSafetensorsDtype(r.dtype)) {
    throw new SafetensorsError(
      `${at}: unknown or unsupported dtype ${JSON.stringify(r.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
    );
  }
  const dtype = r.dtype;
  if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError(`${at}: shape must be an array of non-negative integers`);
  }
  const shape = r.shape as number[];
  const off = r.data_offsets;
  if (
    !Array.isArray(off) ||
    off.length !== 2 ||
    !off.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw new SafetensorsError(`${at}: data_offsets must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = off as [number, number];
  if (end < begin) throw new SafetensorsError(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) {
    throw new SafetensorsError(
      `${at}: data_offsets [${begin}, ${end}] run past the data section (${dataBytes} bytes); the file is truncated`,
    );
  }
  const need = shapeSize(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== need) {
    throw new SafetensorsError(
      `${at}: shape [${shape.join(', ')}] of ${dtype} needs ${need} bytes but data_offsets cover ${end - begin}`,
    );
  }
  return { name, dtype, shape, begin, end };
}

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, source?: string): SafetensorsFile {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, source);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, SafeTensor>();
  for (const e of header.entries) {
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      data: decodeTensorBytes(e.dtype, data.subarray(e.begin, e.end)),
    });
  }
  return { tensors, metadata: header.metadata };
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Converts raw little-endian bytes of one tensor to its decoded typed array (a fresh, aligned copy). */
export function decodeTensorBytes(dtype: SafetensorsDtype, raw: Uint8Array): SafetensorData {
  const count = raw.length / DTYPE_BYTES[dtype];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'F32': {
      if (HOST_LITTLE_ENDIAN) return new Float32Array(raw.slice().buffer);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    case 'F64': {
      if (HOST_LITTLE_ENDIAN) return new Float64Array(raw.slice().buffer);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u32[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    }
    case 'I64': {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
      return out;
    }
  }
}

// ---- half-precision conversions ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits → number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → IEEE binary16 bits, rounding the float32 value to nearest, ties to even; overflow → ±Inf. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  // Unbiased exponent re-biased for half; e <= 0 means subnormal or zero in half.
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    mant |= 0x800000; // implicit leading one
    const shift = 14 - e; // 24-bit significand → subnormal half units of 2^-24
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m; // m may carry into the exponent field, which is the correct smallest normal
  }
  const m = mant >>> 13;
  const rem = mant & 0x1fff;
  let h = sign | (e << 10) | m;
  if (rem > 0x1000 || (rem === 0x1000 && m & 1)) h++; // carry may roll into the exponent (and up to Inf)
  return h;
}

/** number → bfloat16 bits (upper half of float32), round to nearest even; NaN stays a quiet NaN. */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

// ---- writer ----

export interface TensorToWrite {
  /** Stored dtype. F32/F16/BF16 take float data (rounded to nearest even for the half types). */
  dtype: SafetensorsDtype;
  shape: number[];
  data: ArrayLike<number> | BigInt64Array;
}

/**
 * Serialises tensors in the given (insertion) order, contiguous from offset 0, with `__metadata__` first
 * when present and the JSON header padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function serializeSafetensors(
  tensors: Iterable<[string, TensorToWrite]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = [...tensors];
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named "__metadata__"');
    if (seen.has(name)) throw new SafetensorsError(`tensor "${name}" appears twice`);
    seen.add(name);
    if (!isSafetensorsDtype(t.dtype))
      throw new SafetensorsError(`tensor "${name}": unknown dtype ${String(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor "${name}": shape must be non-negative integers`);
    }
    const n = shapeSize(t.shape);
    if (t.data.length !== n) {
      throw new SafetensorsError(
        `tensor "${name}": shape [${t.shape.join(', ')}] holds ${n} elements but data has ${t.data.length}`,
      );
    }
    const isBig = t.data instanceof BigInt64Array;
    if (isBig !== (t.dtype === 'I64')) {
      throw new SafetensorsError(
        `tensor "${name}": ${t.dtype} data must be ${t.dtype === 'I64' ? 'a BigInt64Array' : 'numbers'}`,
      );
    }
    const bytes = n * DTYPE_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const [, t] of list) {
    p = encodeTensor(view, p, t);
  }
  return out;
}

function encodeTensor(view: DataView, p: number, t: TensorToWrite): number {
  const d = t.data;
  const n = d.length;
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++, p += 4) view.setFloat32(p, (d as ArrayLike<number>)[i], true);
      return p;
    case 'F64':
      for (let i = 0; i < n; i++, p += 8) view.setFloat64(p, (d as ArrayLike<number>)[i], true);
      return p;
    case 'F16':
      for (let i = 0; i < n; i++, p += 2) view.setUint16(p, floatToHalf((d as ArrayLike<number>)[i]), true);
      return p;
    case 'BF16':
      for (let i = 0; i < n; i++, p += 2) view.setUint16(p, floatToBf16((d as ArrayLike<number>)[i]), true);
      return p;
    case 'I32':
      for (let i = 0; i < n; i++, p += 4) {
        const v = (d as ArrayLike<number>)[i];
        if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
          throw new SafetensorsError(`I32 value ${v} at index ${i} is not a 32-bit integer`);
        }
        view.setInt32(p, v, true);
      }
      return p;
    case 'I64':
      for (let i = 0; i < n; i++, p += 8) view.setBigInt64(p, (d as BigInt64Array)[i], true);
      return p;
  }
}
