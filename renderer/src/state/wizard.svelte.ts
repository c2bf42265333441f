// A method wizard's state: the config being built, the current step, what each field shows, and three kinds
// of errors routed to the step and field they name: local parse errors, the kind's schema's verdict on the
// config as the user types (both block Next), and the server's errors from createRun. The review step also
// holds the sweep: values per sweepable field (and seeds), each checked by the same schema as the user types;
// with any set, Start creates a lab-level sweep (createSweep) instead of one run.
import type { Calibration, CreateRunRequest, LabApi, RunSummary } from '../../../core/api/lab-api';
import type { SubmissionPlan } from '../../../core/api/kinds';
import type { CreateSweepRequest, SweepAxis } from '../../../core/api/sweep';
import { LabError } from '../../../core/api/lab-types';
import { isPlainObject, parseTags } from '../lib/config-form';
import {
  fieldKey,
  readField,
  visible,
  writeField,
  type Config,
  type WizardField,
  type WizardPreview,
  type WizardSpec,
  type WizardStep,
} from '../lib/wizard/spec';
import {
  MAX_SWEEP_AXES,
  MAX_SWEEP_RUNS,
  SEED_AXIS,
  checkGrid,
  checkValues,
  configFileName,
  gridSize,
  sweepFileName,
  formatValue,
  formatValues,
  parseSweepValues,
  pointConfigs,
  sweepCommand,
  type ParsedValues,
  type SweepAxisSpec,
} from '../lib/wizard/sweep';

/** Error key of the sweep section's own line (the grid's size, a point's combination, the server's word). */
export const SWEEP_GENERAL = 'sweep';
/** Error key of one sweep axis's input. */
export const sweepKey = (field: string): string => `sweep:${field}`;
/**
 * How long the sweep's check waits after the last keystroke: each check validates every value and, with two
 * axes or more, every point of the grid (up to 1,000 schema checks, 30–140 ms under load), so it runs once the
 * typing pauses rather than on every key. Start stays disabled until the check of the current text has run.
 */
export const SWEEP_CHECK_MS = 150;

export interface WizardOptions {
  /** The sweep check's delay after an edit (SWEEP_CHECK_MS); 0 checks at once. */
  sweepCheckMs?: number;
}

/** The review step every wizard ends with: name, seed, tags and the whole config as JSON. */
export const REVIEW_STEP: WizardStep = { id: 'review', title: 'Review', fields: [] };
/** Error keys of the review step's own inputs. */
export const REVIEW_FIELDS = ['name', 'seed', 'tags', 'config'] as const;

/** Where an error about `field` (as createRun names it) is shown: a step and a field id or step slot. */
export interface ErrorRoute {
  step: number;
  /** A field id, a review input, or `step:<id>` for the step's own error line. */
  key: string;
}

function stripConfig(field: string): string | null {
  if (field === 'config' || field === '(root)') return '';
  return field.startsWith('config.') ? field.slice('config.'.length) : null;
}

const under = (field: string, prefix: string): boolean =>
  field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`);

/**
 * Routes an error field ("config.alpha", "config.teacher.heads", "seed") to a step: the visible field whose
 * path is the longest prefix of it, else the step owning the longest prefix, else the review's JSON.
 */
export function routeError(spec: WizardSpec, config: Config, field: string): ErrorRoute {
  const review = spec.steps.length;
  const path = stripConfig(field);
  if (path === null)
    return { step: review, key: (REVIEW_FIELDS as readonly string[]).includes(field) ? field : 'config' };
  let best: { route: ErrorRoute; len: number } | null = null;
  spec.steps.forEach((s, i) => {
    for (const f of s.fields) {
      const k = fieldKey(f.path);
      // Longest path wins; on a tie a plain field beats a source switch over the same key.
      const len = 2 * k.length + (f.read ? 0 : 1);
      if (visible(f, config) && path !== '' && under(path, k) && (!best || len > best.len))
        best = { route: { step: i, key: f.id }, len };
    }
  });
  if (best) return (best as { route: ErrorRoute }).route;
  spec.steps.forEach((s, i) => {
    for (const k of s.owns ?? [])
      if (path !== '' && under(path, k) && (!best || k.length > best.len))
        best = { route: { step: i, key: `step:${s.id}` }, len: k.length };
  });
  if (best) return (best as { route: ErrorRoute }).route;
  return { step: review, key: 'config' };
}

export class WizardState {
  readonly #api: LabApi;
  readonly spec: WizardSpec;
  readonly #defaults: Config;
  #config = $state.raw<Config>({});
  #step = $state(0);
  /** The furthest step reached; the progress header lets the user jump back to any step up to it. */
  #reached = $state(0);
  /** What each field's input shows, by field id. */
  drafts = $state<Record<string, string>>({});
  #localErrors = $state.raw<Record<string, string>>({});
  #serverErrors = $state.raw<Record<string, string>>({});
  #general = $state<string | null>(null);
  #submitting = $state(false);
  #preset = $state<string | null>(null);
  jsonText = $state('');
  name = $state('');
  seedText = $state('');
  tagsText = $state('');
  /** What each sweep axis's input shows, by field ("seed" for the run seed); empty text: not swept. */
  sweepDrafts = $state<Record<string, string>>({});
  /** The server's refusal of the last sweep, by error key (an axis, or the sweep's own line). */
  #sweepServer = $state.raw<Record<string, string>>({});
  /** The sweep texts the check last ran on: everything about the sweep below reads these, not the drafts. */
  #sweepChecked = $state.raw<Record<string, string>>({});
  #sweepTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #sweepCheckMs: number;

  constructor(api: LabApi, spec: WizardSpec, defaults: Config, options: WizardOptions = {}) {
    this.#sweepCheckMs = options.sweepCheckMs ?? SWEEP_CHECK_MS;
    this.#api = api;
    this.spec = spec;
    this.#defaults = structuredClone(defaults);
    this.#setConfig(structuredClone(defaults));
    // the small preset opens selected; the paper-sized one is a click away
    if (spec.presets[0]) this.applyPreset(spec.presets[0].id);
  }

  get steps(): readonly WizardStep[] {
    return [...this.spec.steps, REVIEW_STEP];
  }
  get step(): number {
    return this.#step;
  }
  get reached(): number {
    return this.#reached;
  }
  get isReview(): boolean {
    return this.#step === this.spec.steps.length;
  }
  get config(): Config {
    return this.#config;
  }
  get preset(): string | null {
    return this.#preset;
  }
  get general(): string | null {
    return this.#general;
  }
  get submitting(): boolean {
    return this.#submitting;
  }
  /** The schema's errors for the current config, by the field (or step slot, or review input) they land on. */
  readonly #liveErrors: Readonly<Record<string, { step: number; message: string }>> = $derived.by(() => {
    const out: Record<string, { step: number; message: string }> = {};
    for (const { field, message } of this.spec.validate(this.#config)) {
      const r = routeError(this.spec, this.#config, field);
      out[r.key] ??= { step: r.step, message };
    }
    return out;
  });
  readonly errors: Readonly<Record<string, string>> = $derived.by(() => ({
    ...this.#serverErrors,
    ...Object.fromEntries(Object.entries(this.#liveErrors).map(([k, e]) => [k, e.message])),
    ...this.#localErrors,
  }));
  /** Parameter counts, circuits and resources of the config, from the kind's functions (null while invalid). */
  readonly preview: WizardPreview | null = $derived.by(() => this.spec.preview(this.#config));

  /** The sweep axes offered for the current config (a field of one union variant only while it is chosen). */
  readonly sweepAxisSpecs: readonly SweepAxisSpec[] = $derived.by(() =>
    (this.spec.sweepAxes ?? []).filter((a) => a.when(this.#config)),
  );
  /** Each offered axis's text parsed, by field (a derived snapshot, never mutated). */
  readonly #sweepParsed: Readonly<Record<string, ParsedValues>> = $derived.by(() =>
    Object.fromEntries(
      this.sweepAxisSpecs.map((a) => [a.field, parseSweepValues(a, this.#sweepChecked[a.field] ?? '')]),
    ),
  );
  /** Each axis's problem, by sweepKey(field): its text does not parse, or the schema refuses a value. */
  readonly sweepErrors: Readonly<Record<string, string>> = $derived.by(() => {
    const out: Record<string, string> = {};
    for (const a of this.sweepAxisSpecs) {
      const p = this.#sweepParsed[a.field];
      if (!p) continue;
      const msg =
        'error' in p ? `${a.field}: ${p.error}` : checkValues(this.spec.validate, this.#config, a, p.values);
      if (msg) out[sweepKey(a.field)] = msg;
    }
    return { ...this.#sweepServer, ...out };
  });
  /** Whether any axis has text: Start then creates a sweep. */
  readonly isSweep: boolean = $derived(
    this.sweepAxisSpecs.some((a) => (this.#sweepChecked[a.field] ?? '').trim() !== ''),
  );
  /** The sweep's text changed since its check last ran (the check waits for a pause in the typing). */
  readonly sweepPending: boolean = $derived.by(() => {
    const d = this.sweepDrafts;
    const c = this.#sweepChecked;
    return [...Object.keys(d), ...Object.keys(c)].some((k) => (d[k] ?? '') !== (c[k] ?? ''));
  });
  /** The axes with values, in the kind's field order (the grid's first axis varies slowest). */
  readonly sweepAxes: readonly SweepAxis[] = $derived.by(() =>
    this.sweepAxisSpecs.flatMap((a) => {
      const p = this.#sweepParsed[a.field];
      return p && 'values' in p && p.values.length > 0
        ? [{ field: a.field, values: p.values as SweepAxis['values'] }]
        : [];
    }),
  );
  /** Runs the sweep creates: the product of the axes' value counts. */
  readonly sweepSize: number = $derived(gridSize(this.sweepAxes));
  /** What blocks the sweep as a whole: too many axes or points (the limit named), or a point the schema refuses. */
  readonly sweepProblem: string | null = $derived.by(() => {
    if (!this.isSweep) return null;
    const axes = this.sweepAxes;
    const n = this.sweepSize;
    if (axes.length > MAX_SWEEP_AXES)
      return `${axes.length} fields are varied; a sweep varies at most ${MAX_SWEEP_AXES} at once`;
    if (n > MAX_SWEEP_RUNS)
      return `this sweep would create ${n.toLocaleString('en-US')} runs (${axes.map((a) => a.values.length).join(' × ')}), over the limit of ${MAX_SWEEP_RUNS.toLocaleString('en-US')} runs per sweep`;
    const fieldErrors = Object.keys(this.sweepErrors).some((k) => k !== SWEEP_GENERAL);
    if (axes.length < 2 || fieldErrors || this.spec.validate(this.#config).length > 0) return null;
    return checkGrid(this.spec.validate, this.#config, axes);
  });
  /**
   * What Start creates, from the kind's metadata: one run (and the child runs of its own sweep), or the sweep's
   * points; null while something is invalid or the sweep is over the limit.
   */
  readonly plan: SubmissionPlan | null = $derived.by(() => {
    if (!this.spec.plan) return null;
    if (!this.isSweep) return this.spec.plan([this.#config], false);
    if (this.sweepAxes.length === 0 || this.sweepSize > MAX_SWEEP_RUNS) return null;
    // the seed axis leaves every config as it is: plan the other axes' points once, then count each seed
    const axes = this.sweepAxes.filter((a) => a.field !== SEED_AXIS);
    const seeds = this.sweepSize / gridSize(axes.length ? axes : [{ field: '', values: [0] }]);
    return this.spec.plan(axes.length ? pointConfigs(this.#config, axes) : [this.#config], true, seeds);
  });

  /** One sweep axis's values edited (text as typed: "0.1, 0.01", "1..5"; empty: not swept). */
  editSweep(field: string, text: string): void {
    this.sweepDrafts[field] = text;
    const drop = [sweepKey(field), SWEEP_GENERAL];
    if (drop.some((k) => k in this.#sweepServer))
      this.#sweepServer = Object.fromEntries(
        Object.entries(this.#sweepServer).filter(([k]) => !drop.includes(k)),
      );
    if (this.#sweepTimer !== null) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = null;
    if (this.#sweepCheckMs <= 0) this.checkSweepNow();
    else this.#sweepTimer = setTimeout(() => this.checkSweepNow(), this.#sweepCheckMs);
  }

  /** Runs the sweep's check on the current text now (the pending timer's work; Start does it first). */
  checkSweepNow(): void {
    if (this.#sweepTimer !== null) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = null;
    this.#sweepChecked = { ...this.sweepDrafts };
  }

  /**
   * Start is disabled: on the review step while the sweep's check has not run on the current text, or while
   * the sweep has a problem marked (a single run's problems are shown when Start is pressed).
   */
  get startBlocked(): boolean {
    return this.isReview && (this.sweepPending || (this.isSweep && this.stepErrors(this.#step).length > 0));
  }

  /** The base config as a file `qlab run` (and `qlab sweep`, with --vary) accepts: kind, name, seed, tags, config. */
  configFile(): { filename: string; mimeType: string; content: string } {
    const body: Record<string, unknown> = { kind: this.spec.kind };
    if (this.name.trim()) body.name = this.name.trim();
    const seed = Number(this.seedText.trim());
    if (this.seedText.trim() && !this.#localErrors.seed) body.seed = seed;
    const tags = parseTags(this.tagsText);
    if (tags.length) body.tags = tags;
    body.config = this.#config;
    return {
      filename: configFileName(this.name, this.spec.kind),
      mimeType: 'application/json',
      content: `${JSON.stringify(body, null, 2)}\n`,
    };
  }

  /**
   * The sweep as one file `qlab sweep <file>` takes (the run file with its `axes`); null without a valid
   * sweep. `qlab run` refuses it (a run has no axes).
   */
  sweepFile(): { filename: string; mimeType: string; content: string } | null {
    if (!this.sweepCommandLine) return null;
    const f = this.configFile();
    const body = { ...(JSON.parse(f.content) as Record<string, unknown>), axes: this.sweepAxes };
    return { ...f, filename: sweepFileName(f.filename), content: `${JSON.stringify(body, null, 2)}\n` };
  }

  /** The same sweep from the command line, on the saved config file; null without a valid sweep. */
  readonly sweepCommandLine: string | null = $derived.by(() =>
    this.isSweep &&
    this.sweepAxes.length > 0 &&
    !this.sweepProblem &&
    Object.keys(this.sweepErrors).length === 0
      ? sweepCommand(configFileName(this.name, this.spec.kind), this.sweepAxes)
      : null,
  );

  /** The fields of step `i` shown for the current config. */
  fieldsOf(i: number): WizardField[] {
    const s = this.spec.steps[i];
    return s ? s.fields.filter((f) => visible(f, this.#config)) : [];
  }

  /** Errors that keep the user on step `i`: unparsable fields shown there and the schema's errors routed there. */
  stepErrors(i: number): string[] {
    const e = this.#localErrors;
    const local =
      i === this.spec.steps.length
        ? (REVIEW_FIELDS as readonly string[]).filter((k) => k in e).map((k) => e[k])
        : this.fieldsOf(i)
            .filter((f) => f.id in e)
            .map((f) => e[f.id]);
    const live = Object.values(this.#liveErrors)
      .filter((x) => x.step === i)
      .map((x) => x.message);
    // the sweep's section is on the review step: its problems block Start there
    const sweep =
      i === this.spec.steps.length && this.isSweep
        ? [...Object.values(this.sweepErrors), ...(this.sweepProblem ? [this.sweepProblem] : [])]
        : [];
    return [...local, ...live, ...sweep];
  }

  #setConfig(c: Config, keep?: string): void {
    this.#config = c;
    const drafts: Record<string, string> = {};
    for (const s of this.spec.steps)
      for (const f of s.fields) drafts[f.id] = f.id === keep ? this.drafts[f.id] : readField(f, c);
    this.drafts = drafts;
    this.jsonText = JSON.stringify(c, null, 2);
  }

  #clearServer(key: string): void {
    if (!(key in this.#serverErrors)) return;
    const { [key]: _fixed, ...rest } = this.#serverErrors;
    this.#serverErrors = rest;
  }

  #field(id: string): WizardField {
    for (const s of this.spec.steps) for (const f of s.fields) if (f.id === id) return f;
    throw new Error(`wizard ${this.spec.kind}: no field ${id}`);
  }

  /** One field edited; others are re-read since a switch (teacher source, sweep on) reshapes the config. */
  edit(id: string, text: string): void {
    const f = this.#field(id);
    this.drafts[id] = text;
    this.#clearServer(id);
    const r = writeField(f, this.#config, text);
    const errors = { ...this.#localErrors };
    if ('error' in r) errors[id] = `${fieldKey(f.path)}: ${r.error}`;
    else {
      delete errors[id];
      this.#setConfig(r.config, id);
    }
    this.#localErrors = errors;
  }

  /**
   * A preset's run-time line: from the kind's work model and the lab's calibration (the function the preview
   * uses) with what the model leaves out, else — a kind without a work model — the line its metadata states.
   */
  presetEstimate(id: string, calibration: Calibration | null): string {
    const p = this.spec.presets.find((x) => x.id === id);
    if (!p) return '';
    const e = this.spec.estimate?.(p.build(structuredClone(this.#defaults)), calibration);
    if (!e) return p.about;
    // what the work model leaves out goes with a figure (not with "calibrate for an estimate")
    return e.calibrated && e.note ? `${e.text}; ${e.note}` : e.text;
  }

  applyPreset(id: string): void {
    const p = this.spec.presets.find((x) => x.id === id);
    if (!p) throw new Error(`wizard ${this.spec.kind}: no preset ${id}`);
    this.#preset = id;
    this.#localErrors = {};
    this.#serverErrors = {};
    this.#setConfig(p.build(structuredClone(this.#defaults)));
  }

  /**
   * A whole config from elsewhere (clone and edit): the fields show it, and a preset is highlighted only when
   * the config is exactly what that preset builds (a cloned run is not "small" because the wizard opened so).
   */
  loadConfig(c: Config): void {
    this.#localErrors = {};
    this.#serverErrors = {};
    this.#setConfig(structuredClone(c));
    const key = canonicalJson(c);
    this.#preset =
      this.spec.presets.find((p) => canonicalJson(p.build(structuredClone(this.#defaults))) === key)?.id ??
      null;
  }

  /**
   * A stored sweep's axes into the Sweep section (clone and edit of a sweep's parent), each as its input
   * would read it (`1..3`, `0.1, 0.01`), checked at once. Returns the fields this config offers no input for
   * (a field of a union variant not chosen), which are left out.
   */
  loadSweep(axes: readonly SweepAxis[]): string[] {
    const offered = this.sweepAxisSpecs.map((a) => a.field);
    const left: string[] = [];
    for (const field of Object.keys(this.sweepDrafts)) this.sweepDrafts[field] = '';
    for (const a of axes) {
      if (!offered.includes(a.field)) left.push(a.field);
      else {
        const range = formatValues(a.values);
        this.sweepDrafts[a.field] = /^-?\d+\.\.-?\d+$/.test(range)
          ? range
          : a.values.map(formatValue).join(', ');
      }
    }
    this.#sweepServer = {};
    this.checkSweepNow();
    return left;
  }

  /** The review's JSON edited: applied at once when it parses to an object, so Back shows it in the fields. */
  editJson(text: string): void {
    this.jsonText = text;
    this.#clearServer('config');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.#localErrors = {
        ...this.#localErrors,
        config: `config: invalid JSON (${err instanceof Error ? err.message : String(err)})`,
      };
      return;
    }
    if (!isPlainObject(parsed)) {
      this.#localErrors = { ...this.#localErrors, config: 'config: must be a JSON object' };
      return;
    }
    const { config: _ok, ...rest } = this.#localErrors;
    // Field drafts that did not parse are replaced by what the JSON now says.
    const fieldIds = this.spec.steps.flatMap((s) => s.fields.map((f) => f.id));
    this.#localErrors = Object.fromEntries(Object.entries(rest).filter(([k]) => !fieldIds.includes(k)));
    const json = this.jsonText;
    this.#setConfig(parsed);
    this.jsonText = json;
  }

  editReview(key: 'name' | 'seed' | 'tags', text: string): void {
    if (key === 'name') this.name = text;
    else if (key === 'seed') this.seedText = text;
    else this.tagsText = text;
    this.#clearServer(key);
    if (key === 'seed') {
      const errors = { ...this.#localErrors };
      delete errors.seed;
      const t = text.trim();
      const n = Number(t);
      if (t !== '' && (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1))
        errors.seed = 'seed: must be an integer from 0 to 4294967295';
      this.#localErrors = errors;
    }
  }

  /** Moves on unless this step has fields that did not parse; returns whether it moved. */
  next(): boolean {
    if (this.stepErrors(this.#step).length > 0 || this.isReview) return false;
    this.#step += 1;
    this.#reached = Math.max(this.#reached, this.#step);
    return true;
  }

  back(): void {
    if (this.#step > 0) this.#step -= 1;
  }

  /** Jumps from the progress header: back freely, forward only to steps already reached. */
  goTo(i: number): boolean {
    if (i < 0 || i > this.#reached || i >= this.steps.length) return false;
    if (i > this.#step && this.stepErrors(this.#step).length > 0) return false;
    this.#step = i;
    return true;
  }

  /** The request, or null (and the step with the first local error opened) when something does not parse. */
  request(): CreateRunRequest | null {
    for (let i = 0; i < this.steps.length; i++)
      if (this.stepErrors(i).length > 0) {
        this.#step = i;
        return null;
      }
    const req: CreateRunRequest = { kind: this.spec.kind, config: this.#config };
    if (this.name.trim()) req.name = this.name.trim();
    if (this.seedText.trim()) req.seed = Number(this.seedText.trim());
    const tags = parseTags(this.tagsText);
    if (tags.length > 0) req.tags = tags;
    return req;
  }

  /** The sweep's request (the run's request with the axes), or null as request() returns it. */
  sweepRequest(): CreateSweepRequest | null {
    const req = this.request();
    if (!req || this.sweepAxes.length === 0) {
      if (req) this.#step = this.spec.steps.length;
      return null;
    }
    return { ...req, axes: this.sweepAxes.map((a) => ({ field: a.field, values: [...a.values] })) };
  }

  /** Starts the run, or the sweep when any axis has values; the server's refusal lands beside what it names. */
  async submit(): Promise<RunSummary | null> {
    this.checkSweepNow(); // never send a sweep its check has not seen
    this.#general = null;
    this.#serverErrors = {};
    this.#sweepServer = {};
    const sweep = this.isSweep;
    const req = sweep ? this.sweepRequest() : this.request();
    if (!req) return null;
    this.#submitting = true;
    try {
      return sweep ? await this.#api.createSweep(req as CreateSweepRequest) : await this.#api.createRun(req);
    } catch (err) {
      const e = err instanceof LabError ? err : new LabError('internal', String(err));
      const axis = sweep && e.field ? /^axes(?:\[(\d+)\])?/.exec(e.field) : null;
      if (axis) {
        // "axes[i].values[j]": the axis's input ("point k of N (…): …"); "axes": the sweep's own line
        const a = axis[1] === undefined ? undefined : (req as CreateSweepRequest).axes[Number(axis[1])];
        this.#sweepServer = { [a ? sweepKey(a.field) : SWEEP_GENERAL]: e.message };
        this.#step = this.spec.steps.length;
      } else if (e.field) {
        const r = routeError(this.spec, this.#config, e.field);
        this.#serverErrors = { [r.key]: e.message };
        this.#step = r.step;
        this.#reached = Math.max(this.#reached, r.step);
      } else this.#general = e.message;
      return null;
    } finally {
      this.#submitting = false;
    }
  }
}

/** JSON with object keys sorted, so two configs compare equal whatever order their keys were written in. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isPlainObject(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}
