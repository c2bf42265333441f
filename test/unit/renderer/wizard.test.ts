import { describe, expect, it } from 'vitest';
import { describeZodError, LabError } from '../../../core/api/lab-api';
import { kindMeta } from '../../../core/methods/catalog';
import { QdllmConfigSchema } from '../../../core/methods/qdllm/schema';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { wizardFor } from '../../../renderer/src/lib/wizard';
import { parseField, withValue, type Config, type WizardSpec } from '../../../renderer/src/lib/wizard/spec';
import { routeError, WizardState } from '../../../renderer/src/state/wizard.svelte';
import { FakeLabApi } from './fake-api';

/** The defaults as the renderer gets them from listKinds (through JSON). */
const json = <T>(v: T): Config => JSON.parse(JSON.stringify(v)) as Config;
const QDLLM_DEFAULTS = json(QdllmConfigSchema.parse({}));
const QHEAD_DEFAULTS = json(QheadConfigSchema.parse({}));

function make(
  kind: 'qdllm' | 'qhead',
  api = new FakeLabApi(),
): { w: WizardState; api: FakeLabApi; spec: WizardSpec } {
  const defaults = kind === 'qdllm' ? QDLLM_DEFAULTS : QHEAD_DEFAULTS;
  const spec = wizardFor(kind, defaults)!;
  return { w: new WizardState(api, spec, defaults), api, spec };
}
const stepIndex = (spec: WizardSpec, id: string): number => spec.steps.findIndex((s) => s.id === id);
const schemaOf = (kind: 'qdllm' | 'qhead') => (kind === 'qdllm' ? QdllmConfigSchema : QheadConfigSchema);

describe('wizard steps and config assembly', () => {
  it('opens on the small preset; a field that does not parse blocks Next; Back and the header move freely', () => {
    const { w, spec } = make('qdllm');
    expect(w.preset).toBe('small');
    expect(w.config.samplesPerClass).toBeNull(); // the small preset uses every deduplicated mail
    expect(w.steps.map((s) => s.id)).toEqual(['data', 'teacher', 'student', 'distill', 'review']);
    w.edit('samplesPerClass', '12.5');
    expect(w.next()).toBe(false);
    expect(w.stepErrors(0)).toEqual(['samplesPerClass: must be a whole number']);
    w.edit('samplesPerClass', '');
    expect(w.config.samplesPerClass).toBeNull();
    expect(w.next()).toBe(true);
    expect(w.step).toBe(1);
    expect(w.goTo(3)).toBe(false); // not reached yet
    w.back();
    expect(w.goTo(1)).toBe(true);
    for (let i = 1; i < spec.steps.length; i++) expect(w.next()).toBe(true);
    expect(w.isReview).toBe(true);
    expect(w.next()).toBe(false);
    expect(w.goTo(2)).toBe(true);
    expect(w.goTo(4)).toBe(true);
  });

  it('source switches reshape the config and the fields shown', () => {
    const { w, spec } = make('qdllm');
    const t = stepIndex(spec, 'teacher');
    const ids = (): string[] => w.fieldsOf(t).map((f) => f.id);
    expect(ids()).toContain('teacher.hiddenSize');
    w.edit('teacher.source', 'gguf');
    // the GGUF variant as its schema starts it: the path to fill in, every other key at its default
    expect(w.config.teacher).toEqual({
      source: 'gguf',
      modelPath: '',
      prompt: 'Classify the text as one of: {labels}.\nText: {text}\nAnswer:',
      labelWords: null,
      contextSize: 2048,
      maxTextChars: 2000,
      studentVocabSize: 1024,
    });
    expect(ids()).toEqual([
      'teacher.source',
      'teacher.modelPath',
      'teacher.prompt',
      'teacher.labelWords',
      'teacher.contextSize',
      'teacher.maxTextChars',
      'teacher.studentVocabSize',
    ]);
    expect(spec.steps[t].note?.(w.config)).toMatch(/node-llama-cpp/);
    w.edit('teacher.modelPath', '/m/q.gguf');
    w.edit('teacher.labelWords', 'spam, ham');
    expect((w.config.teacher as Config).labelWords).toEqual(['spam', 'ham']);
    w.edit('teacher.source', 'dir');
    expect(w.config.teacher).toEqual({ ...(QDLLM_DEFAULTS.teacher as Config), modelDir: '' });
    expect(ids()).toEqual([
      'teacher.source',
      'teacher.modelDir',
      'teacher.loraRank',
      'teacher.loraAlpha',
      'teacher.loraTargets',
      'teacher.finetune',
      'teacher.finetuneEpochs',
      'teacher.finetuneBatch',
      'teacher.finetuneLr',
      'teacher.pooling',
    ]);
    w.edit('teacher.source', 'lab');
    expect(w.config.teacher).toEqual(QDLLM_DEFAULTS.teacher);
    w.edit('dataSource', 'file');
    expect(w.fieldsOf(0).map((f) => f.id)).toContain('datasetPath');
    w.edit('datasetPath', '/data/x.jsonl');
    w.edit('textColumn', 'body');
    expect(w.drafts.dataSource).toBe('file');
    expect(QdllmConfigSchema.safeParse(w.config).success).toBe(true);
    w.edit('dataSource', 'bundled');
    expect(w.config.dataset).toBe('spam-assassin');
  });

  it('qhead: sweep on/off, factor lists, optional and nullable numbers, noise JSON, encoder variants', () => {
    const { w } = make('qhead');
    w.edit('sweepOn', 'false');
    expect('sweep' in w.config).toBe(false);
    expect(w.fieldsOf(4).map((f) => f.id)).not.toContain('sweep.design');
    w.edit('sweepOn', 'true');
    w.edit('sweep.factors.qubits', '4, 6,8');
    w.edit('sweep.factors.lr', '0.01,0.1');
    w.edit('sweep.epochs', '');
    w.edit('maxTrain', '40');
    w.edit('shots', '100');
    w.edit('noise', '{"CNOT": 0.01}');
    w.edit('head.skip', 'false');
    expect(w.config.sweep).toEqual({
      design: 'fractional',
      factors: { qubits: [4, 6, 8], lr: [0.01, 0.1] },
      seeds: 1,
      maxPoints: 64,
    });
    expect(w.config).toMatchObject({ maxTrain: 40, shots: 100, noise: { CNOT: 0.01 } });
    expect((w.config.head as Config).skip).toBe(false);
    expect(QheadConfigSchema.safeParse(w.config).success).toBe(true);
    w.edit('sweep.factors.depth', '1, x');
    expect(w.errors['sweep.factors.depth']).toBe(
      'sweep.factors.depth: "x" must be a number (comma-separated list)',
    );
    w.edit('sweep.factors.depth', '');
    w.edit('shots', '');
    w.edit('maxTrain', '');
    expect(w.config.shots).toBeNull();
    expect('maxTrain' in w.config).toBe(false);
    w.edit('encoder.type', 'hf-dir');
    expect(w.config.encoder).toEqual({ type: 'hf-dir', path: '', seqLen: 512, maxTokens: 512 });
    expect(w.fieldsOf(1).map((f) => f.id)).toEqual([
      'encoder.type',
      'encoder.path',
      'encoder.seqLen',
      'encoder.maxTokens',
    ]);
    // one field, two variants: the allowed range follows the variant the config is in
    const seqLen = w.fieldsOf(1).find((f) => f.id === 'encoder.seqLen')!;
    expect(seqLen.range?.(w.config)).toBe('8 to 32768 tokens');
    w.edit('encoder.type', 'pretrain');
    expect(w.config.encoder).toEqual(QHEAD_DEFAULTS.encoder);
    expect(seqLen.range?.(w.config)).toBe('8 to 4096 tokens');
    w.edit('dataSource', 'file');
    expect(w.config.datasetFile).toEqual({ path: '', textColumn: 'text', labelColumn: 'label' });
    w.edit('datasetFile.format', 'tsv');
    w.edit('datasetFile.format', '');
    expect('format' in (w.config.datasetFile as Config)).toBe(false);
    w.edit('dataSource', 'bundled');
    expect('datasetFile' in w.config).toBe(false);
    expect(
      parseField(
        { id: 'x', label: '', help: '', kind: 'select', path: ['x'], options: [{ value: 'a', label: 'a' }] },
        'b',
      ),
    ).toEqual({ error: 'must be one of a' });
    expect(withValue({ a: { b: 1, c: 2 } }, ['a', 'b'], undefined)).toEqual({ a: { c: 2 } });
  });

  it('review: the JSON edit shows in the fields; bad JSON or seed blocks the request', () => {
    const { w } = make('qdllm');
    w.editJson(JSON.stringify({ ...QDLLM_DEFAULTS, alpha: 0.5 }));
    expect(w.drafts.alpha).toBe('0.5');
    w.editJson('{');
    expect(w.errors.config).toMatch(/^config: invalid JSON/);
    expect(w.request()).toBeNull();
    expect(w.isReview).toBe(true);
    w.editJson('[1]');
    expect(w.errors.config).toBe('config: must be a JSON object');
    w.editJson(JSON.stringify(QDLLM_DEFAULTS));
    w.editReview('seed', '-1');
    expect(w.request()).toBeNull();
    w.editReview('seed', '7');
    w.editReview('name', ' spam ');
    w.editReview('tags', 'a, b');
    expect(w.request()).toEqual({
      kind: 'qdllm',
      config: QDLLM_DEFAULTS,
      name: 'spam',
      seed: 7,
      tags: ['a', 'b'],
    });
  });
});

describe('wizard checks as the user types', () => {
  it('an out-of-range value shows the schema’s message by its field at once and blocks Next and Start', () => {
    const { w, spec, api } = make('qdllm');
    const distill = stepIndex(spec, 'distill');
    w.edit('alpha', '2');
    expect(w.errors.alpha).toBe('config.alpha: must be in [0, 1]');
    for (let i = 0; i < distill; i++) expect(w.next()).toBe(true);
    expect(w.next()).toBe(false);
    expect(w.stepErrors(distill)).toEqual(['config.alpha: must be in [0, 1]']);
    w.goTo(0);
    expect(w.request()).toBeNull();
    expect(w.step).toBe(distill);
    expect(api.calls.filter((c) => c.method === 'createRun')).toEqual([]);
    w.edit('alpha', '0.5');
    expect(w.errors.alpha).toBeUndefined();
    expect(w.next()).toBe(true);
  });

  it('every error shows at once, each by its own field; the allowed range is in the field', () => {
    const { w, spec } = make('qhead');
    const head = stepIndex(spec, 'head');
    w.edit('head.qubits', '40');
    w.edit('head.depth', '1000000000');
    w.edit('head.measured', '-3');
    expect(Object.keys(w.errors).sort()).toEqual(['head.depth', 'head.measured', 'head.qubits']);
    expect(w.stepErrors(head)).toHaveLength(3);
    expect(w.preview).toBeNull();
    const qubits = w.fieldsOf(head).find((f) => f.id === 'head.qubits')!;
    expect(qubits.range?.(w.config)).toBe('2 to 24 qubits');
    // cross-field rules too: Q_m above Q is refused on Q_m, next to it
    w.edit('head.qubits', '4');
    w.edit('head.depth', '2');
    w.edit('head.measured', '5');
    expect(w.errors['head.measured']).toMatch(/cannot exceed head.qubits/);
  });
});

describe('wizard precision field', () => {
  it('qdllm offers it beside the backend, qhead beside shots; both default to f32 and write f64', () => {
    for (const [kind, step] of [
      ['qdllm', 'student'],
      ['qhead', 'training'],
    ] as const) {
      const { w, spec } = make(kind);
      const field = w.fieldsOf(stepIndex(spec, step)).find((f) => f.id === 'precision');
      expect(field?.options?.map((o) => o.label)).toEqual([
        'f32 (complex64, fast)',
        'f64 (complex128, reference)',
      ]);
      expect(w.drafts.precision).toBe('f32');
      w.edit('precision', 'f64');
      expect(w.config.precision).toBe('f64');
      expect(schemaOf(kind).parse(w.config).precision).toBe('f64');
      w.edit('precision', 'f16');
      expect(w.errors.precision).toBe('precision: must be one of f32, f64');
    }
  });

  it('gpu + f64 is refused by the schema and the error lands on the precision field of the student step', () => {
    const { w, spec } = make('qdllm');
    w.edit('backend', 'gpu');
    w.edit('precision', 'f64');
    const res = QdllmConfigSchema.safeParse(w.config);
    expect(res.success).toBe(false);
    const { field, message } = describeZodError(res.error!, 'config');
    expect(field).toBe('config.precision');
    expect(message).toMatch(/gpu backend runs in f32 only/);
    expect(routeError(spec, w.config, field)).toEqual({ step: stepIndex(spec, 'student'), key: 'precision' });
    expect(w.errors.precision).toMatch(/gpu backend runs in f32 only/);
    const h = make('qhead');
    expect(routeError(h.spec, h.w.config, 'config.precision')).toEqual({
      step: stepIndex(h.spec, 'training'),
      key: 'precision',
    });
  });
});

describe('wizard error routing', () => {
  it('routes field paths to the step and field that show them', () => {
    const { w, spec } = make('qdllm');
    const r = (f: string) => routeError(spec, w.config, f);
    expect(r('config.alpha')).toEqual({ step: stepIndex(spec, 'distill'), key: 'alpha' });
    expect(r('config.teacher.heads')).toEqual({ step: stepIndex(spec, 'teacher'), key: 'teacher.heads' });
    expect(r('config.teacher.loraTargets')).toEqual({
      step: stepIndex(spec, 'teacher'),
      key: 'teacher.loraTargets',
    });
    expect(r('config.transformerStudent.heads')).toEqual({
      step: stepIndex(spec, 'distill'),
      key: 'transformerStudent.heads',
    });
    expect(r('config.teacher.modelPath')).toEqual({ step: stepIndex(spec, 'teacher'), key: 'step:teacher' });
    expect(r('config.dataset')).toEqual({ step: 0, key: 'dataset' });
    expect(r('seed')).toEqual({ step: 4, key: 'seed' });
    expect(r('config')).toEqual({ step: 4, key: 'config' });
    expect(r('config.nonsense')).toEqual({ step: 4, key: 'config' });
    const h = make('qhead');
    const rh = (f: string) => routeError(h.spec, h.w.config, f);
    expect(rh('config.energy.qubits[1]')).toEqual({ step: 4, key: 'energy.qubits' });
    expect(rh('config.noise.H')).toEqual({ step: 3, key: 'noise' });
    expect(rh('config.sweep.factors.connectivity')).toEqual({ step: 4, key: 'sweep.factors.connectivity' });
    expect(rh('config.head.measured')).toEqual({ step: 2, key: 'head.measured' });
  });

  it('every schema error from a bad edit lands on the field that shows it', () => {
    const cases: [kind: 'qdllm' | 'qhead', field: string, text: string, step: string][] = [
      ['qdllm', 'alpha', '2', 'distill'],
      ['qdllm', 'qubits', '1', 'student'],
      ['qdllm', 'teacher.heads', '5', 'teacher'],
      ['qdllm', 'samplesPerClass', '2', 'data'],
      ['qdllm', 'datasetPath', 'x.txt', 'data'],
      ['qdllm', 'teacher.loraTargets', '(', 'teacher'],
      ['qhead', 'head.measured', '9', 'head'],
      ['qhead', 'head.connectivity', '6', 'head'],
      ['qhead', 'energy.qubits', '4, 4, 6', 'sweep'],
      ['qhead', 'noise', '{"H": 0.1}', 'training'],
      ['qhead', 'encoder.heads', '3', 'encoder'],
      ['qhead', 'datasetFile.path', '', 'data'],
    ];
    for (const [kind, id, text, step] of cases) {
      const { w, spec } = make(kind);
      if (id === 'datasetPath' || id === 'datasetFile.path') w.edit('dataSource', 'file');
      w.edit(id, text);
      const res = schemaOf(kind).safeParse(w.config);
      expect(res.success, `${kind} ${id}=${text}`).toBe(false);
      const { field } = describeZodError(res.error!, 'config');
      const route = routeError(spec, w.config, field);
      expect([spec.steps[route.step]?.id, route.key], `${kind} ${field}`).toEqual([step, id]);
      expect(w.errors[id], `${kind} ${id} shown live`).toBeDefined();
    }
  });

  it('a refused submit opens the step and shows the message by the field; editing clears it', async () => {
    const { w, api, spec } = make('qdllm');
    for (let i = 0; i < spec.steps.length; i++) w.next();
    // a refusal only the server knows of (here: faked), routed like the schema's own errors
    api.createError = new LabError('invalid', 'config.alpha: must be in [0, 1]', 'config.alpha');
    expect(await w.submit()).toBeNull();
    expect(w.step).toBe(stepIndex(spec, 'distill'));
    expect(w.errors.alpha).toBe('config.alpha: must be in [0, 1]');
    w.edit('alpha', '0.9');
    expect(w.errors.alpha).toBeUndefined();
    api.createError = new LabError('internal', 'disk full');
    expect(await w.submit()).toBeNull();
    expect(w.general).toBe('disk full');
    api.createError = null;
    const run = await w.submit();
    expect(run?.kind).toBe('qdllm');
    const sent = api.calls.filter((c) => c.method === 'createRun').at(-1)!.arg as { config: Config };
    expect(QdllmConfigSchema.parse(sent.config).alpha).toBe(0.9);
    expect(kindMeta('qdllm')!.schema.safeParse(sent.config).success).toBe(true);
  });
});

describe('clone and edit', () => {
  it('a loaded config highlights no preset unless it is exactly what one builds (whatever its key order)', () => {
    const { w, spec } = make('qdllm');
    expect(w.preset).toBe('small');
    const cloned = { ...structuredClone(w.config), epochs: 7 };
    w.loadConfig(cloned);
    expect(w.preset).toBeNull();
    expect(w.config).toEqual(cloned);
    const paper = spec.presets[1];
    const built = paper.build(structuredClone(QDLLM_DEFAULTS));
    const reordered = Object.fromEntries(Object.entries(built).reverse());
    w.loadConfig(reordered);
    expect(w.preset).toBe(paper.id);
  });
});
