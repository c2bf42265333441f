// An in-memory LabApi for the renderer's state tests: records calls, serves canned data, emits events.
import { LabError } from '../../../core/api/lab-api';
import { compareRuns } from '../../../core/lab/report';
import type {
  CalibrateRequest,
  Calibration,
  Comparison,
  FileRootsInfo,
  NoteInfo,
  KindInfo,
  LabApi,
  LabEvent,
  RunConfigFields,
  RunDetail,
  RunLog,
  RunPage,
  RunQuery,
  RunSummary,
  Series,
  SeriesRequest,
} from '../../../core/api/lab-api';
import { referenceQueryRuns } from './reference-query';

export function makeRun(over: Partial<RunSummary> = {}): RunSummary {
  return {
    id: over.id ?? crypto.randomUUID(),
    kind: 'vqc-fit',
    name: '',
    status: 'queued',
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    progress: 0,
    progressMessage: null,
    tags: [],
    summary: {},
    error: null,
    parentId: null,
    childCount: 0,
    ...over,
  };
}

export class FakeLabApi implements LabApi {
  calls: { method: string; arg: unknown }[] = [];
  runs: RunSummary[] = [];
  kinds: KindInfo[] = [];
  /** Stored points per "runId/key", served whole by getSeries (the tests keep them short). */
  points = new Map<string, { step: number; value: number }[]>();
  createError: LabError | null = null;
  #listeners = new Set<(e: LabEvent) => void>();

  emit(event: LabEvent): void {
    for (const l of this.#listeners) l(event);
  }

  async listKinds(): Promise<KindInfo[]> {
    this.calls.push({ method: 'listKinds', arg: {} });
    return this.kinds;
  }
  /** Like the service: top-level runs, or one run's children with `parentId`. */
  async listRuns(req?: {
    parentId?: string;
    status?: string;
    includeChildren?: boolean;
  }): Promise<RunSummary[]> {
    this.calls.push({ method: 'listRuns', arg: req });
    return this.runs.filter(
      (r) =>
        (req?.includeChildren === true || r.parentId === (req?.parentId ?? null)) &&
        (req?.status === undefined || r.status === req.status),
    );
  }
  /**
   * queryRuns over `runs` in plain JS with the renderer's own sort, search and group functions: the reference
   * the SQL implementation (core/lab/run-query.ts) is tested against.
   */
  async queryRuns(req: RunQuery): Promise<RunPage> {
    this.calls.push({ method: 'queryRuns', arg: req });
    return referenceQueryRuns(this.runs, req, this.configs);
  }
  /** The calibration served by getCalibration; calibrate() stores `nextCalibration`. */
  calibration: Calibration | null = null;
  nextCalibration: Calibration | null = null;
  async getCalibration(): Promise<Calibration | null> {
    this.calls.push({ method: 'getCalibration', arg: undefined });
    return this.calibration;
  }
  async calibrate(req?: CalibrateRequest): Promise<Calibration> {
    this.calls.push({ method: 'calibrate', arg: req });
    if (!this.nextCalibration) throw new LabError('internal', 'no calibration in this fake');
    this.calibration = this.nextCalibration;
    return this.calibration;
  }
  async getRun(id: string): Promise<RunDetail> {
    this.calls.push({ method: 'getRun', arg: id });
    const run = this.runs.find((r) => r.id === id);
    if (!run) throw new LabError('not-found', `no run ${id}`, 'id');
    return {
      ...run,
      config: {},
      seed: 1,
      codeVersion: 'test',
      host: {},
      backend: {},
      heartbeatAt: null,
      // The stored summary of each key, from the canned points (all zero for a key without points).
      metrics: (this.metricKeys.get(id) ?? []).map((key) => {
        const pts = this.points.get(`${id}/${key}`) ?? [];
        const vs = pts.map((p) => p.value);
        return {
          key,
          count: pts.length,
          lastStep: pts.length > 0 ? pts[pts.length - 1].step : 0,
          last: vs.length > 0 ? vs[vs.length - 1] : 0,
          min: vs.length > 0 ? Math.min(...vs) : 0,
          max: vs.length > 0 ? Math.max(...vs) : 0,
        };
      }),
      artifacts: [],
      notes: (this.notes.get(id) ?? []).map((n) => ({ ...n })),
      report: [],
      children: this.runs.filter((r) => r.parentId === id),
    };
  }
  async createRun(req: { kind: string; name?: string }): Promise<RunSummary> {
    this.calls.push({ method: 'createRun', arg: req });
    if (this.createError) throw this.createError;
    const run = makeRun({ kind: req.kind, name: req.name ?? '' });
    this.runs.push(run);
    return run;
  }
  async cancelRun(id: string): Promise<RunSummary> {
    this.calls.push({ method: 'cancelRun', arg: id });
    throw new LabError('conflict', 'not running');
  }
  async getSeries(req: SeriesRequest): Promise<Series> {
    this.calls.push({ method: 'getSeries', arg: req });
    const pts = this.points.get(`${req.runId}/${req.key}`) ?? [];
    return {
      runId: req.runId,
      key: req.key,
      count: pts.length,
      points: pts.map((p) => ({ step: p.step, min: p.value, max: p.value, last: p.value })),
    };
  }
  /** Metric keys per run id, reported in getRun's metrics. */
  metricKeys = new Map<string, string[]>();

  async compareRuns(req: { ids: string[] }): Promise<Comparison> {
    this.calls.push({ method: 'compareRuns', arg: req });
    const runs = await Promise.all(req.ids.map((id) => this.getRun(id)));
    return compareRuns(runs);
  }
  async exportRuns(): Promise<never> {
    throw new LabError('internal', 'not used');
  }
  /** When set, setTags rejects with it (as the service does for a tag with a control character). */
  tagsError: LabError | null = null;
  async setTags(req: { runId: string; tags: string[] }): Promise<RunSummary> {
    this.calls.push({ method: 'setTags', arg: req });
    if (this.tagsError) throw this.tagsError;
    const run = this.runs.find((r) => r.id === req.runId);
    if (!run) throw new LabError('not-found', `runId: no run ${req.runId}`, 'runId');
    run.tags = req.tags;
    return { ...run };
  }
  /** Notes per run id, kept like the store keeps them (ids increase, oldest first). */
  notes = new Map<string, NoteInfo[]>();
  #noteId = 0;
  #note(runId: string, noteId: number): NoteInfo {
    const n = (this.notes.get(runId) ?? []).find((x) => x.id === noteId);
    if (!n) throw new LabError('not-found', `noteId: run ${runId} has no note ${noteId}`, 'noteId');
    return n;
  }
  async addNote(req: { runId: string; text: string }): Promise<NoteInfo> {
    this.calls.push({ method: 'addNote', arg: req });
    const note = { id: ++this.#noteId, text: req.text, createdAt: '2026-01-01T00:00:00.000Z' };
    this.notes.set(req.runId, [...(this.notes.get(req.runId) ?? []), note]);
    return { ...note };
  }
  async updateNote(req: { runId: string; noteId: number; text: string }): Promise<NoteInfo> {
    this.calls.push({ method: 'updateNote', arg: req });
    const n = this.#note(req.runId, req.noteId);
    n.text = req.text;
    return { ...n };
  }
  async deleteNote(req: { runId: string; noteId: number }): Promise<{ runId: string; noteId: number }> {
    this.calls.push({ method: 'deleteNote', arg: req });
    this.#note(req.runId, req.noteId);
    this.notes.set(
      req.runId,
      (this.notes.get(req.runId) ?? []).filter((x) => x.id !== req.noteId),
    );
    return { runId: req.runId, noteId: req.noteId };
  }
  async exportPdf(): Promise<never> {
    throw new LabError('internal', 'not used');
  }
  async exportBundle(): Promise<never> {
    throw new LabError('internal', 'not used');
  }
  async importBundle(): Promise<never> {
    throw new LabError('internal', 'not used');
  }
  roots: FileRootsInfo = { roots: [], editable: false, settingsFile: '/lab/settings.json' };
  async getFileRoots(): Promise<FileRootsInfo> {
    this.calls.push({ method: 'getFileRoots', arg: {} });
    return this.roots;
  }
  async pickFileRoot(): Promise<never> {
    throw new LabError('internal', 'not used');
  }
  async removeFileRoot(): Promise<never> {
    throw new LabError('internal', 'not used');
  }
  /** Records the request; throws createError when set, else a parent run with a child per point. */
  async createSweep(req: {
    kind: string;
    name?: string;
    axes: { values: unknown[] }[];
  }): Promise<RunSummary> {
    this.calls.push({ method: 'createSweep', arg: req });
    if (this.createError) throw this.createError;
    const n = req.axes.reduce((p, a) => p * a.values.length, 1);
    const run = { ...makeRun({ kind: req.kind, name: req.name ?? '' }), childCount: n };
    this.runs.push(run);
    return run;
  }
  /** Flattened config fields per run id, served by getRunConfigs. */
  configs = new Map<string, RunConfigFields['fields']>();
  async getRunConfigs(req: { ids: string[] }): Promise<RunConfigFields[]> {
    this.calls.push({ method: 'getRunConfigs', arg: req });
    return req.ids.flatMap((id) => {
      const fields = this.configs.get(id);
      return fields ? [{ runId: id, fields }] : [];
    });
  }
  /** Stored log lines per run id, served by getRunLog. */
  logs = new Map<string, RunLog['lines']>();
  async getRunLog(req: { runId: string }): Promise<RunLog> {
    this.calls.push({ method: 'getRunLog', arg: req });
    const lines = this.logs.get(req.runId) ?? [];
    return { runId: req.runId, lines, truncated: false, bytes: lines.length * 40 };
  }
  onEvent(listener: (e: LabEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
