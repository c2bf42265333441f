// Calls one LabApi method by name with one untrusted argument, as the HTTP server and the Electron IPC
// handlers receive them. Validates the name against the allow-list and the argument against the
// method's schema before the service sees it, and turns every failure into a LabErrorInfo value.
import { z } from 'zod';
import {
  BundleExportRequestSchema,
  BundleImportRequestSchema,
  CalibrateRequestSchema,
  CompareRequestSchema,
  FileRootRequestSchema,
  NoteDeleteRequestSchema,
  NoteUpdateRequestSchema,
  PdfRequestSchema,
  CreateRunRequestSchema,
  ExportRequestSchema,
  LAB_API_METHODS,
  LabError,
  ListRunsRequestSchema,
  RunQuerySchema,
  NoteRequestSchema,
  RunConfigsRequestSchema,
  RunIdSchema,
  RunLogRequestSchema,
  SeriesRequestSchema,
  TagsRequestSchema,
  describeZodError,
  type LabApi,
  type LabApiMethod,
  type LabErrorInfo,
} from '../api/lab-api';
import { CreateSweepRequestSchema } from '../api/sweep';

export type DispatchResult = { ok: true; value: unknown } | { ok: false; error: LabErrorInfo };

export function isLabApiMethod(name: unknown): name is LabApiMethod {
  return typeof name === 'string' && (LAB_API_METHODS as readonly string[]).includes(name);
}

const EmptySchema = z.object({}).strict();
const IdObjectSchema = z.object({ id: RunIdSchema }).strict();

function check<T>(schema: z.ZodType<T>, arg: unknown, root = ''): T {
  const r = schema.safeParse(arg);
  if (!r.success) {
    const { message, field } = describeZodError(r.error, root);
    throw new LabError('invalid', message, field);
  }
  return r.data;
}

/** getRun/cancelRun take {"id"} over HTTP; a bare id string is accepted too (the IPC bridge may send one). */
function runId(arg: unknown): string {
  if (typeof arg === 'string') return check(RunIdSchema, arg, 'id');
  return check(IdObjectSchema, arg).id;
}

function optional(arg: unknown): unknown {
  return arg === null ? undefined : arg;
}

async function call(api: LabApi, method: LabApiMethod, raw: unknown): Promise<unknown> {
  const arg = optional(raw);
  switch (method) {
    case 'listKinds':
      if (arg !== undefined) check(EmptySchema, arg);
      return api.listKinds();
    case 'listRuns':
      return api.listRuns(arg === undefined ? undefined : check(ListRunsRequestSchema, arg));
    case 'queryRuns':
      return api.queryRuns(check(RunQuerySchema, arg ?? {}));
    case 'getCalibration':
      if (arg !== undefined) check(EmptySchema, arg);
      return api.getCalibration();
    case 'calibrate':
      return api.calibrate(arg === undefined ? undefined : check(CalibrateRequestSchema, arg));
    case 'getRun':
      return api.getRun(runId(arg));
    case 'cancelRun':
      return api.cancelRun(runId(arg));
    case 'createRun':
      return api.createRun(check(CreateRunRequestSchema, arg));
    case 'createSweep':
      return api.createSweep(check(CreateSweepRequestSchema, arg));
    case 'getSeries':
      return api.getSeries(check(SeriesRequestSchema, arg));
    case 'compareRuns':
      return api.compareRuns(check(CompareRequestSchema, arg));
    case 'exportRuns':
      return api.exportRuns(check(ExportRequestSchema, arg));
    case 'setTags':
      return api.setTags(check(TagsRequestSchema, arg));
    case 'addNote':
      return api.addNote(check(NoteRequestSchema, arg));
    case 'getRunConfigs':
      return api.getRunConfigs(check(RunConfigsRequestSchema, arg));
    case 'getRunLog':
      return api.getRunLog(check(RunLogRequestSchema, arg));
    case 'updateNote':
      return api.updateNote(check(NoteUpdateRequestSchema, arg));
    case 'deleteNote':
      return api.deleteNote(check(NoteDeleteRequestSchema, arg));
    case 'exportPdf':
      return api.exportPdf(check(PdfRequestSchema, arg));
    case 'exportBundle':
      return api.exportBundle(check(BundleExportRequestSchema, arg));
    case 'importBundle':
      return api.importBundle(check(BundleImportRequestSchema, arg));
    case 'getFileRoots':
      if (arg !== undefined) check(EmptySchema, arg);
      return api.getFileRoots();
    case 'pickFileRoot':
      if (arg !== undefined) check(EmptySchema, arg);
      return api.pickFileRoot();
    case 'removeFileRoot':
      return api.removeFileRoot(check(FileRootRequestSchema, arg));
    default: {
      // every method of the list has a case: a new one fails to compile here, not silently at run time
      const unhandled: never = method;
      throw new LabError('invalid', `unknown method '${String(unhandled)}'`, 'method');
    }
  }
}

/** A LabError-shaped value from anything thrown; unexpected errors become 'internal' with their message. */
export function toErrorInfo(err: unknown): LabErrorInfo {
  if (err instanceof LabError) return err.toInfo();
  if (err instanceof Error) return { code: 'internal', message: err.message.split('\n')[0] || err.name };
  return { code: 'internal', message: String(err) };
}

export async function dispatch(api: LabApi, method: string, arg: unknown): Promise<DispatchResult> {
  if (!isLabApiMethod(method)) {
    return {
      ok: false,
      error: { code: 'not-found', message: `unknown method '${method}'`, field: 'method' },
    };
  }
  try {
    return { ok: true, value: await call(api, method, arg) };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) };
  }
}
