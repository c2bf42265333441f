// The LabApi contract: the only thing the renderer sees. Two transports implement it (the Electron
// preload bridge and HTTP + server-sent events in browser mode); the LabService implements it in Node.
// Isomorphic: no Node or DOM imports here.
import { z } from 'zod';
import type { CreateSweepRequest } from './sweep';
import {
  CONTROL,
  EXPORT_FORMATS,
  exportLimit,
  LONE_SURROGATE,
  MAX_COMPARE_RUNS,
  MAX_EXPORT_RUNS,
  MAX_BUNDLE_TRANSFER_BYTES,
  MAX_QUERY_WINDOW,
  RUN_GROUP_BYS,
  RUN_SORT_COLUMNS,
  RUN_STATUSES,
} from './lab-types';
import type {
  BundleImportResult,
  Calibration,
  CalibrateRequest,
  Comparison,
  ExportedFile,
  FileRootsInfo,
  KindInfo,
  LabEvent,
  NoteInfo,
  RunConfigFields,
  RunDetail,
  RunLog,
  RunPage,
  RunSummary,
  Series,
} from './lab-types';

// Types and constants without zod (the renderer's first screen imports them from lab-types.ts directly).
export * from './lab-types';

// ---- requests, with schemas (every transport validates with these before calling the service) ----

export const RunIdSchema = z.string().uuid();

export const ListRunsRequestSchema = z
  .object({
    kind: z.string().min(1).optional(),
    status: z.enum(RUN_STATUSES).optional(),
    tag: z.string().min(1).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    /** Only the children of this run (oldest first). Without it, only top-level runs are listed. */
    parentId: RunIdSchema.optional(),
    /** Top-level runs and children together, newest first (e.g. to resolve an id prefix). */
    includeChildren: z.boolean().optional(),
  })
  .strict()
  .refine((r) => !(r.parentId !== undefined && r.includeChildren === true), {
    message: 'give either parentId or includeChildren, not both',
    path: ['includeChildren'],
  });
export type ListRunsRequest = z.infer<typeof ListRunsRequestSchema>;

export const labelString = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !LONE_SURROGATE.test(s), { message: 'contains a lone surrogate (not valid Unicode text)' })
    .refine((s) => !CONTROL.test(s), { message: 'contains a control character' });

/** The most restarts a run may ask for (createRun's `retries`). */
export const MAX_RUN_RETRIES = 10;

/** What a new run and a new sweep both name: the kind, a name, the config, the run seed and tags. */
export const RUN_REQUEST_FIELDS = {
  kind: z.string().min(1),
  name: labelString(200).optional(),
  config: z.unknown(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  tags: z
    .array(labelString(100).pipe(z.string().min(1)))
    .max(50)
    .optional(),
};

export const CreateRunRequestSchema = z
  .object({
    ...RUN_REQUEST_FIELDS,
    /**
     * How many times the run starts again when its job dies without a word (its process, lab or `qlab worker`
     * killed: the heartbeat goes stale); 0 (the default) ends it `interrupted`. Each new attempt restarts the
     * job from the beginning with the same config and seed; points already stored are kept.
     */
    retries: z.number().int().min(0).max(MAX_RUN_RETRIES).optional(),
  })
  .strict();
export type CreateRunRequest = z.infer<typeof CreateRunRequestSchema>;

export const SeriesRequestSchema = z
  .object({
    runId: RunIdSchema,
    key: z.string().min(1),
    maxPoints: z.number().int().min(2).max(10_000).optional(),
  })
  .strict();
export type SeriesRequest = z.infer<typeof SeriesRequestSchema>;

export const CompareRequestSchema = z
  .object({
    ids: z
      .array(RunIdSchema)
      .min(2, { message: 'compare needs at least two runs' })
      .max(MAX_COMPARE_RUNS, {
        message: `compare takes at most ${MAX_COMPARE_RUNS.toLocaleString('en-US')} runs at once; select fewer (a filter or a tag narrows a sweep)`,
      })
      .refine((ids) => new Set(ids).size === ids.length, { message: 'a run is listed twice' }),
  })
  .strict();
export type CompareRequest = z.infer<typeof CompareRequestSchema>;

export const ExportRequestSchema = z
  .object({ ids: z.array(RunIdSchema).min(1).max(MAX_EXPORT_RUNS), format: z.enum(EXPORT_FORMATS) })
  .strict();
export type ExportRequest = z.infer<typeof ExportRequestSchema>;

export const TagsRequestSchema = z
  .object({ runId: RunIdSchema, tags: z.array(labelString(100).pipe(z.string().min(1))).max(50) })
  .strict();
export type TagsRequest = z.infer<typeof TagsRequestSchema>;

export const NoteRequestSchema = z
  .object({ runId: RunIdSchema, text: z.string().min(1).max(20_000) })
  .strict();
export type NoteRequest = z.infer<typeof NoteRequestSchema>;

const NoteIdSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const NoteUpdateRequestSchema = z
  .object({ runId: RunIdSchema, noteId: NoteIdSchema, text: z.string().min(1).max(20_000) })
  .strict();
export type NoteUpdateRequest = z.infer<typeof NoteUpdateRequestSchema>;

export const NoteDeleteRequestSchema = z.object({ runId: RunIdSchema, noteId: NoteIdSchema }).strict();
export type NoteDeleteRequest = z.infer<typeof NoteDeleteRequestSchema>;

/** A PDF of one or more runs' report (the HTML export printed by Chromium or Electron's printToPDF). */
/** calibrate's request: GGUF files to time (at most 8, each a path the lab's file roots must hold). */
export const CalibrateRequestSchema = z
  .object({ ggufFiles: z.array(z.string().min(1).max(4096)).min(1).max(8).optional() })
  .strict();
export const PdfRequestSchema = z.object({ ids: z.array(RunIdSchema).min(1).max(MAX_EXPORT_RUNS) }).strict();
export type PdfRequest = z.infer<typeof PdfRequestSchema>;

export const BundleExportRequestSchema = z
  .object({ ids: z.array(RunIdSchema).min(1).max(exportLimit('bundle')) })
  .strict();
export type BundleExportRequest = z.infer<typeof BundleExportRequestSchema>;

/** Only base64 characters, and `=` only as the last one or two. */
export function isBase64(s: string): boolean {
  if (/[^A-Za-z0-9+/=]/.test(s)) return false;
  const pad = s.indexOf('=');
  return pad < 0 || (pad >= s.length - 2 && (pad === s.length - 1 || s[s.length - 1] === '='));
}

export const BundleImportRequestSchema = z
  .object({
    /** The uploaded file's name, for messages only. */
    filename: labelString(255).optional(),
    /** The bundle's bytes in base64. */
    data: z
      .string()
      .min(1)
      .max(Math.ceil(MAX_BUNDLE_TRANSFER_BYTES / 3) * 4, {
        message: `is larger than ${MAX_BUNDLE_TRANSFER_BYTES / (1024 * 1024)} MiB (import bigger bundles with 'qlab bundle import')`,
      })
      // the character check only after the size check passed (it reads every character): one negated class
      // and the padding's place, ~10x faster over 85 MiB than an anchored /^[…]*={0,2}$/ (1.3 s on a loaded machine)
      .pipe(z.string().refine(isBase64, { message: 'is not base64' })),
  })
  .strict();
export type BundleImportRequest = z.infer<typeof BundleImportRequestSchema>;

export const FileRootRequestSchema = z.object({ path: z.string().min(1).max(4096) }).strict();
export type FileRootRequest = z.infer<typeof FileRootRequestSchema>;

const SortColumnSchema = z
  .string()
  .max(300)
  .refine(
    (s) =>
      (RUN_SORT_COLUMNS as readonly string[]).includes(s) ||
      ((s.startsWith('summary:') || s.startsWith('config:')) && s.length > s.indexOf(':') + 1),
    { message: `a column (${RUN_SORT_COLUMNS.join(', ')}), summary:<key> or config:<path>` },
  );

/** One window of the top-level runs, filtered, searched, sorted (and grouped) by the lab: the runs table's pages. */
export const RunQuerySchema = z
  .object({
    kind: z.string().min(1).max(200).optional(),
    status: z.enum(RUN_STATUSES).optional(),
    tag: z.string().min(1).max(200).optional(),
    /** Every word must appear in the run's name, kind, status, id, error, tags or summary keys (any case). */
    search: z.string().max(1000).optional(),
    sort: SortColumnSchema.optional(),
    dir: z.enum(['asc', 'desc']).optional(),
    /** Only the runs of one group: a kind, a tag ('' = untagged), a sweep's parent id (its points) or 'single'. */
    group: z
      .object({ by: z.enum(RUN_GROUP_BYS), value: z.string().max(200) })
      .strict()
      .optional(),
    offset: z.number().int().min(0).max(1e9).optional(),
    limit: z.number().int().min(0).max(MAX_QUERY_WINDOW).optional(),
    /** Also count the matching runs per group of this kind. */
    withGroups: z.enum(RUN_GROUP_BYS).optional(),
    /** Also list every matching id in order (at most MAX_QUERY_IDS): select all. */
    withIds: z.boolean().optional(),
    /** Also list the kinds and tags of all top-level runs (the filters' choices). */
    withFacets: z.boolean().optional(),
    /** Also list the summary keys of the matching runs (the column chooser). */
    withSummaryKeys: z.boolean().optional(),
  })
  .strict();
export type RunQuery = z.infer<typeof RunQuerySchema>;

export const RunConfigsRequestSchema = z.object({ ids: z.array(RunIdSchema).min(1).max(10_000) }).strict();
export type RunConfigsRequest = z.infer<typeof RunConfigsRequestSchema>;

export const RunLogRequestSchema = z
  .object({
    runId: RunIdSchema,
    /** How many of the last lines to return (default 1,000). */
    maxLines: z.number().int().min(1).max(10_000).optional(),
  })
  .strict();
export type RunLogRequest = z.infer<typeof RunLogRequestSchema>;

/** The contract. Every method rejects with a LabError (code, message, field) on bad input. */
export interface LabApi {
  listKinds(): Promise<KindInfo[]>;
  listRuns(req?: ListRunsRequest): Promise<RunSummary[]>;
  /** A window of the top-level runs, filtered, sorted and grouped by the lab (the runs table's pages). */
  queryRuns(req: RunQuery): Promise<RunPage>;
  /** The stored calibration of this machine (null before the first), for run-time estimates. */
  getCalibration(): Promise<Calibration | null>;
  /**
   * Measures the calibration again (a few seconds) and stores it; with `ggufFiles`, times those GGUF models
   * (each checked against the lab's file roots) as a QD-LLM teacher runs them and keeps the rest.
   */
  calibrate(req?: CalibrateRequest): Promise<Calibration>;
  getRun(id: string): Promise<RunDetail>;
  createRun(req: CreateRunRequest): Promise<RunSummary>;
  /**
   * A lab-level sweep (core/api/sweep.ts): one parent run and one queued child run per point of the axes' grid,
   * each point a full run of the kind that any scheduler or worker may take; the parent ends with its last
   * child. Every point is validated first; nothing is written when one is invalid. Returns the parent.
   */
  createSweep(req: CreateSweepRequest): Promise<RunSummary>;
  cancelRun(id: string): Promise<RunSummary>;
  getSeries(req: SeriesRequest): Promise<Series>;
  compareRuns(req: CompareRequest): Promise<Comparison>;
  exportRuns(req: ExportRequest): Promise<ExportedFile>;
  setTags(req: TagsRequest): Promise<RunSummary>;
  addNote(req: NoteRequest): Promise<NoteInfo>;
  /** Replaces a note's text (line breaks kept; shown as Markdown). */
  updateNote(req: NoteUpdateRequest): Promise<NoteInfo>;
  deleteNote(req: NoteDeleteRequest): Promise<{ runId: string; noteId: number }>;
  /** The runs' report as a PDF (`encoding: 'base64'`). */
  exportPdf(req: PdfRequest): Promise<ExportedFile>;
  /** The runs (children travel with their parents) as one .qlab bundle (`encoding: 'base64'`). */
  exportBundle(req: BundleExportRequest): Promise<ExportedFile>;
  /** Imports an uploaded bundle; a damaged one is refused with nothing written. */
  importBundle(req: BundleImportRequest): Promise<BundleImportResult>;
  getFileRoots(): Promise<FileRootsInfo>;
  /** Desktop: asks for a folder in a dialog and adds it (unchanged if the dialog is dismissed). */
  pickFileRoot(): Promise<FileRootsInfo>;
  /** Desktop: removes a folder listed in settings.json. */
  removeFileRoot(req: FileRootRequest): Promise<FileRootsInfo>;
  /** The listed runs' configs flattened for table columns (unknown ids are left out). */
  getRunConfigs(req: RunConfigsRequest): Promise<RunConfigFields[]>;
  /** The tail of a run's stored log (`<labDir>/logs/<id>.log`), oldest line first. */
  getRunLog(req: RunLogRequest): Promise<RunLog>;
  /** Subscribes to live events; returns the unsubscribe function. */
  onEvent(listener: (event: LabEvent) => void): () => void;
}

/** Formats a zod error as one sentence naming the field. */
export function describeZodError(err: z.ZodError, root = ''): { message: string; field: string } {
  const issue = err.issues[0];
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  const field = root && path ? `${root}.${path}` : root || path || '(root)';
  return { message: `${field}: ${issue.message}`, field };
}
