// The frozen teacher's outputs for one split, stored in the lab's cache directory so a second run with the
// same teacher and data skips building the teacher. One file per (teacher config, data, split), named by a
// hash of them; a file that fails any check (magic, header, sizes, payload sha256, key) is ignored.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncodedTexts } from '../../nn/text-classifier';

const MAGIC = 'QDLLMTC1';

/** What the teacher gave for one split. */
export interface TeacherSplit {
  logits: Float64Array; // (N, C)
  embeddings: Float64Array; // (N, E)
  labels: Int32Array; // (N)
  tokens: EncodedTexts; // student tokens (the teacher's tokenizer, or a BPE of the training texts for GGUF)
}

/** Facts about the teacher kept with its outputs (so a cache hit still reports them). */
export interface TeacherInfo {
  description: string;
  /** Parameters of the deployed (merged) teacher; null when unknown (GGUF). */
  params: number | null;
  /** Parameters trained to adapt it to the task (LoRA adapters + head); 0 when none. */
  trainableParams: number;
  /** Seconds spent building it (pretraining, fine-tuning). */
  buildSeconds: number;
  /** Seconds of task fine-tuning alone (no pretraining); absent in caches written before it was kept. */
  finetuneSeconds?: number;
  finetuneEpochs: number;
  inferSecondsPerSample: number;
  peakRssMb: number;
  peakHeapMb: number;
  vocabSize: number;
  E: number;
}

interface Header {
  key: string;
  split: string;
  N: number;
  C: number;
  E: number;
  totalIds: number;
  sha256: string;
  info: TeacherInfo;
}

export function teacherCacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function teacherCachePath(cacheDir: string, key: string, split: string): string {
  return join(cacheDir, 'qdllm', `teacher-${key.slice(0, 32)}-${split}.bin`);
}

function bytesOf(a: Float64Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes atomically (temp file + rename) so a crashed write never leaves a half file under the real name. */
export function writeTeacherSplit(
  path: string,
  key: string,
  split: string,
  s: TeacherSplit,
  C: number,
  info: TeacherInfo,
): void {
  const N = s.labels.length;
  const payload = Buffer.concat([
    bytesOf(s.logits),
    bytesOf(s.embeddings),
    bytesOf(s.labels),
    bytesOf(s.tokens.offsets),
    bytesOf(s.tokens.ids),
  ]);
  const header: Header = {
    key,
    split,
    N,
    C,
    E: info.E,
    totalIds: s.tokens.ids.length,
    sha256: createHash('sha256').update(payload).digest('hex'),
    info,
  };
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length, 0);
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC, 'latin1'), len, h, payload]));
  renameSync(tmp, path);
}

/** The cached split, or a reason it cannot be used (missing, corrupt, other key). */
export function readTeacherSplit(
  path: string,
  key: string,
  split: string,
): { ok: true; split: TeacherSplit; info: TeacherInfo; C: number } | { ok: false; reason: string } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return { ok: false, reason: 'no cache file' };
  }
  if (buf.length < 12 || buf.subarray(0, 8).toString('latin1') !== MAGIC)
    return { ok: false, reason: 'bad magic' };
  const hl = buf.readUInt32LE(8);
  if (12 + hl > buf.length) return { ok: false, reason: 'truncated header' };
  let h: Header;
  try {
    h = JSON.parse(buf.subarray(12, 12 + hl).toString('utf8')) as Header;
  } catch {
    return { ok: false, reason: 'unreadable header' };
  }
  if (h.key !== key || h.split !== split) return { ok: false, reason: 'different key' };
  const { N, C, E, totalIds } = h;
  if (![N, C, E, totalIds].every((v) => Number.isInteger(v) && v >= 0))
    return { ok: false, reason: 'bad sizes' };
  const payload = buf.subarray(12 + hl);
  const want = 8 * N * C + 8 * N * E + 4 * N + 4 * (N + 1) + 4 * totalIds;
  if (payload.length !== want)
    return { ok: false, reason: `payload has ${payload.length} bytes, expected ${want}` };
  if (createHash('sha256').update(payload).digest('hex') !== h.sha256)
    return { ok: false, reason: 'checksum mismatch' };
  // copy each array out so it is aligned for its typed view
  let at = 0;
  const take = (bytes: number): ArrayBuffer => {
    const b = payload.buffer.slice(payload.byteOffset + at, payload.byteOffset + at + bytes) as ArrayBuffer;
    at += bytes;
    return b;
  };
  const logits = new Float64Array(take(8 * N * C));
  const embeddings = new Float64Array(take(8 * N * E));
  const labels = new Int32Array(take(4 * N));
  const offsets = new Int32Array(take(4 * (N + 1)));
  const ids = new Int32Array(take(4 * totalIds));
  return { ok: true, split: { logits, embeddings, labels, tokens: { offsets, ids } }, info: h.info, C };
}
