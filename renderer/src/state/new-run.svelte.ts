// The new-run form: a kind, its config edited field by field (or as raw JSON), name, seed and tags;
// errors from createRun land next to the field they name.
import type { CreateRunRequest, KindInfo, LabApi, RunSummary } from '../../../core/api/lab-api';
import { LabError } from '../../../core/api/lab-types';
import { errorTarget, formRows, getAt, parseLeaf, parseTags, setAt } from '../lib/config-form';
import type { FormLeaf, FormRow } from '../lib/config-form';

/** Form fields outside the config; config leaves are "config.<path>", the JSON editor is "config". */
const TOP_FIELDS = ['kind', 'name', 'seed', 'tags', 'config'] as const;

function leafText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export class NewRunState {
  readonly #api: LabApi;
  #kinds = $state.raw<KindInfo[]>([]);
  #kind = $state('');
  #config = $state.raw<unknown>({});
  #rows = $state.raw<FormRow[]>([]);
  /** What each config leaf's input shows, keyed by "config.<path>". */
  drafts = $state<Record<string, string>>({});
  /** Errors found here (unparsable leaves, seed, JSON); they block submitting until fixed. */
  #errors = $state.raw<Record<string, string>>({});
  /** Errors the server returned for the last submit; cleared by the next submit or an edit of the field. */
  #serverErrors = $state.raw<Record<string, string>>({});
  #general = $state<string | null>(null);
  #submitting = $state(false);
  mode = $state<'form' | 'json'>('form');
  jsonText = $state('');
  name = $state('');
  seedText = $state('');
  tagsText = $state('');

  constructor(api: LabApi) {
    this.#api = api;
  }

  get kinds(): KindInfo[] {
    return this.#kinds;
  }
  get kind(): string {
    return this.#kind;
  }
  get config(): unknown {
    return this.#config;
  }
  get rows(): FormRow[] {
    return this.#rows;
  }
  readonly errors: Readonly<Record<string, string>> = $derived.by(() => ({
    ...this.#serverErrors,
    ...this.#errors,
  }));
  get general(): string | null {
    return this.#general;
  }
  get submitting(): boolean {
    return this.#submitting;
  }
  readonly info = $derived.by(() => this.#kinds.find((k) => k.kind === this.#kind) ?? null);

  async load(preferred?: string): Promise<void> {
    try {
      this.#kinds = await this.#api.listKinds();
    } catch (err) {
      this.#general = err instanceof Error ? err.message : String(err);
      return;
    }
    const pick = this.#kinds.find((k) => k.kind === preferred) ?? this.#kinds[0];
    if (pick) this.selectKind(pick.kind);
  }

  selectKind(kind: string): void {
    const info = this.#kinds.find((k) => k.kind === kind);
    this.#kind = kind;
    this.setConfig(structuredClone(info?.defaults ?? {}));
    this.#errors = {};
    this.#serverErrors = {};
    this.#general = null;
  }

  /** Replaces the whole config (kind switch, JSON editor applied) and rebuilds the form from it. */
  setConfig(config: unknown): void {
    this.#config = config;
    this.#rows = formRows(config);
    const drafts: Record<string, string> = {};
    for (const r of this.#rows)
      if (r.row === 'leaf') drafts[`config.${r.field}`] = leafText(getAt(config, r.path));
    this.drafts = drafts;
    this.jsonText = JSON.stringify(config, null, 2);
  }

  /** One config leaf edited in the form. */
  editLeaf(leaf: FormLeaf, text: string): void {
    const key = `config.${leaf.field}`;
    this.drafts[key] = text;
    if (key in this.#serverErrors) {
      const { [key]: _fixed, ...rest } = this.#serverErrors;
      this.#serverErrors = rest;
    }
    const parsed = parseLeaf(leaf.type, text);
    const errors = { ...this.#errors };
    if ('error' in parsed) {
      errors[key] = `${leaf.field}: ${parsed.error}`;
    } else {
      delete errors[key];
      this.#config = setAt(this.#config, leaf.path, parsed.value);
      this.jsonText = JSON.stringify(this.#config, null, 2);
    }
    this.#errors = errors;
  }

  /** Switches editor; leaving the JSON editor applies its text (or stays, with the error shown). */
  setMode(mode: 'form' | 'json'): void {
    if (mode === this.mode) return;
    if (mode === 'form') {
      const parsed = parseLeaf('json', this.jsonText);
      if ('error' in parsed) {
        this.#errors = { ...this.#errors, config: `config: ${parsed.error}` };
        return;
      }
      this.setConfig(parsed.value);
      const { config: _dropped, ...rest } = this.#errors;
      this.#errors = rest;
    }
    this.mode = mode;
  }

  /** Builds the request from the form, or records the local errors and returns null. */
  request(): CreateRunRequest | null {
    const errors: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.#errors)) if (k.startsWith('config.')) errors[k] = v;
    let config = this.#config;
    if (this.mode === 'json') {
      const parsed = parseLeaf('json', this.jsonText);
      if ('error' in parsed) errors.config = `config: ${parsed.error}`;
      else config = parsed.value;
    }
    const req: CreateRunRequest = { kind: this.#kind, config };
    if (!this.#kind) errors.kind = 'kind: pick a job kind';
    if (this.name.trim()) req.name = this.name.trim();
    const seedText = this.seedText.trim();
    if (seedText) {
      const seed = Number(seedText);
      if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
        errors.seed = 'seed: must be an integer from 0 to 4294967295';
      else req.seed = seed;
    }
    const tags = parseTags(this.tagsText);
    if (tags.length > 0) req.tags = tags;
    this.#errors = errors;
    return Object.keys(errors).length === 0 ? req : null;
  }

  /** Every field an error can be shown next to. */
  get fields(): string[] {
    const leaves = this.#rows.filter((r) => r.row === 'leaf').map((r) => `config.${r.field}`);
    return [...TOP_FIELDS, ...leaves];
  }

  async submit(): Promise<RunSummary | null> {
    this.#general = null;
    this.#serverErrors = {};
    const req = this.request();
    if (!req) return null;
    this.#submitting = true;
    try {
      return await this.#api.createRun(req);
    } catch (err) {
      const e = err instanceof LabError ? err : new LabError('internal', String(err));
      // The JSON editor has no per-leaf inputs: its config errors all go to its own slot.
      const fields = this.mode === 'json' ? [...TOP_FIELDS] : this.fields;
      const target = e.field ? errorTarget(e.field, fields) : null;
      if (target) this.#serverErrors = { [target]: e.message };
      else this.#general = e.message;
      return null;
    } finally {
      this.#submitting = false;
    }
  }
}
