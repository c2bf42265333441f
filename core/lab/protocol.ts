// The typed message protocol between the LabService (parent) and a job worker process (child).
// Both directions are validated with these schemas; the parent fails a run on any invalid worker message.
//
// Sequence: worker → ready; parent → start; worker → (progress | metrics | log | artifact | heartbeat)*,
// then result or failed, then done, then the worker exits. Parent → cancel may arrive at any time; the
// worker aborts the job's signal, flushes its metrics and sends done.
//
// A job process may instead be asked to time a GGUF model: parent → calibrate-gguf; worker → gguf-calibrated or
// failed, then done (the lab's calibration, core/lab/calibration.ts measureGgufInJob).
//
// Child runs (a sweep's points): the worker makes the child's UUID and sends child-start before anything else
// about it; progress, metrics and log then carry the child's `runId`; child-end closes it (its metrics are sent
// before). The parent fails the whole run on a message about a child it does not know or that has ended.
//
// Artifacts: the worker writes the file under <labDir>/artifacts/<runId>/ with a temporary name (".tmp-…"),
// hashes it, and sends `artifact` with that temp path; the parent checks the path, size and hash, renames it
// to its final name and only then inserts the row, so a row always points at a complete file.
import { z } from 'zod';

/** Names that are safe as file names on every platform; no dot first so temp names cannot collide. */
export const ArtifactNameSchema = z
  .string()
  .min(1)
  .max(120)
  .regex(
    /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/,
    'must use only letters, digits, ".", "_" and "-" and not start with "."',
  );

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const MetricPointSchema = z
  .object({
    key: z.string().min(1).max(200),
    step: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    value: finite,
    /** ms since the Unix epoch, taken in the worker when the point was recorded. */
    wallTime: finite,
  })
  .strict();
export type WireMetricPoint = z.infer<typeof MetricPointSchema>;

export const ReportSectionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('table'),
      title: z.string(),
      columns: z.array(z.string()),
      rows: z.array(z.array(z.union([z.string(), finite, z.null()]))),
    })
    .strict(),
  z.object({ type: z.literal('text'), title: z.string(), text: z.string() }).strict(),
]);

export const JobResultSchema = z
  .object({
    summary: z.record(z.string(), z.union([finite, z.string()])),
    report: z.array(ReportSectionSchema),
    /** What executed the job (simulator backend, device…), as reported by the job kind. */
    backend: z.record(z.string(), z.unknown()),
  })
  .strict();

export const SerializedErrorSchema = z
  .object({ name: z.string(), message: z.string(), stack: z.string().optional() })
  .strict();
export type SerializedError = z.infer<typeof SerializedErrorSchema>;

// ---- parent → worker ----

export const StartMessageSchema = z
  .object({
    type: z.literal('start'),
    runId: z.string().uuid(),
    kind: z.string().min(1),
    config: z.unknown(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1),
    /** Scratch directory for the job; the parent deletes it after the run. */
    workDir: z.string().min(1),
    labDir: z.string().min(1),
    /** How often the worker sends a heartbeat. */
    heartbeatMs: z.number().int().min(10).max(600_000).optional(),
    /**
     * The lab's file roots (real paths) for a run created over HTTP or IPC: the job opens the files its config
     * names only when the file opened lies inside one (core/util/file-guard.ts). Absent for command-line runs.
     */
    fileRoots: z.array(z.string().min(1).max(4096)).max(1001).optional(),
    /**
     * false: the job gets no `ctx.child` (a lab-level sweep's child, which cannot have children of its own;
     * `childOrInline` then records the job's inner points in the run itself). Default true.
     */
    childRuns: z.boolean().optional(),
  })
  .strict();
export type StartMessage = z.infer<typeof StartMessageSchema>;

export const CancelMessageSchema = z.object({ type: z.literal('cancel') }).strict();

/**
 * Times one GGUF model as the QD-LLM teacher runs it (core/lab/calibration.ts measureGgufFile) in this job
 * process, not in the lab's: llama.cpp's native loader runs on a file a request named, and a multi-GB model's
 * memory is the job's. The worker answers `gguf-calibrated` (or `failed`), then `done`, and exits.
 */
export const CalibrateGgufMessageSchema = z
  .object({
    type: z.literal('calibrate-gguf'),
    /** The file's real path (the lab has resolved it). */
    path: z.string().min(1).max(4096),
    /** The request's field, named in every refusal (e.g. "ggufFiles[0]"). */
    field: z.string().min(1).max(100),
    /** The lab's file roots the file opened must lie in; null for the CLI's own files. */
    fileRoots: z.array(z.string().min(1).max(4096)).max(1001).nullable(),
  })
  .strict();
export type CalibrateGgufMessage = z.infer<typeof CalibrateGgufMessageSchema>;

export const ParentMessageSchema = z.discriminatedUnion('type', [
  StartMessageSchema,
  CancelMessageSchema,
  CalibrateGgufMessageSchema,
]);
export type ParentMessage = z.infer<typeof ParentMessageSchema>;

// ---- worker → parent ----

/** Present on progress/metrics/log about a child run; absent for the run itself. */
const childRunId = z.string().uuid().optional();

export const ChildStartMessageSchema = z
  .object({
    type: z.literal('child-start'),
    childId: z.string().uuid(),
    name: z.string().min(1).max(200),
    /** The parent's kind, or the parent's kind + "/" + a suffix. */
    kind: z.string().min(1).max(200),
    config: z.unknown(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1),
  })
  .strict();

export const ChildEndMessageSchema = z
  .object({
    type: z.literal('child-end'),
    childId: z.string().uuid(),
    status: z.enum(['succeeded', 'failed']),
    result: JobResultSchema,
    /** The reason, for a failed child. */
    error: z.string().max(20_000).nullable(),
  })
  .strict();

export const WorkerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }).strict(),
  z
    .object({
      type: z.literal('progress'),
      fraction: z.number().min(0).max(1),
      message: z.string().max(500).nullable(),
      runId: childRunId,
    })
    .strict(),
  z
    .object({
      type: z.literal('metrics'),
      points: z.array(MetricPointSchema).min(1).max(100_000),
      runId: childRunId,
    })
    .strict(),
  z
    .object({
      type: z.literal('log'),
      level: z.enum(['debug', 'info', 'warn', 'error']),
      message: z.string().max(20_000),
      runId: childRunId,
    })
    .strict(),
  ChildStartMessageSchema,
  ChildEndMessageSchema,
  z
    .object({
      type: z.literal('artifact'),
      name: ArtifactNameSchema,
      kind: z.string().min(1).max(100),
      tmpPath: z.string().min(1),
      bytes: z.number().int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
    })
    .strict(),
  z.object({ type: z.literal('heartbeat') }).strict(),
  z.object({ type: z.literal('result'), result: JobResultSchema }).strict(),
  z.object({ type: z.literal('failed'), error: SerializedErrorSchema }).strict(),
  z.object({ type: z.literal('done') }).strict(),
]);
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>;

/**
 * A job process's answer to `calibrate-gguf`: the timed rates (checked by the lab against CalibratedGguf's
 * schema) and the detail line. Not a run's message: a run's worker sending it fails the run.
 */
export const GgufCalibratedMessageSchema = z
  .object({ type: z.literal('gguf-calibrated'), gguf: z.unknown(), detail: z.string().max(20_000) })
  .strict();
export type GgufCalibratedMessage = z.infer<typeof GgufCalibratedMessageSchema>;

/** Turns anything thrown into the wire form of an error. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    return err.stack === undefined
      ? { name: err.name, message: err.message }
      : { name: err.name, message: err.message, stack: err.stack };
  }
  return { name: 'Error', message: String(err) };
}
