// The wizards generated from each kind's metadata: every kind gets one, every schema field has an input,
// presets match the example files, and the preview is the kind's own functions on the parsed config.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listKindMetas } from '../../../core/methods/catalog';
import { summarizeCircuits } from '../../../core/methods/metadata/sizing';
import { hasWizard, wizardFor } from '../../../renderer/src/lib/wizard';
import type { Config } from '../../../renderer/src/lib/wizard/spec';
import { WizardState } from '../../../renderer/src/state/wizard.svelte';
import { FakeLabApi } from './fake-api';

const ROOT = resolve(import.meta.dirname, '../../..');
const example = (name: string): Config =>
  (JSON.parse(readFileSync(resolve(ROOT, 'examples', name), 'utf8')) as { config: Config }).config;
const EXAMPLES: Record<string, Record<string, string>> = {
  'sim-bench': { small: 'sim-bench.json' },
  'vqc-fit': { small: 'vqc-fit.json' },
  qdllm: { small: 'qdllm-spam.json', paper: 'qdllm-spam-paper.json' },
  qhead: { small: 'qhead-topic.json', paper: 'qhead-topic-paper.json' },
  qffn: { small: 'qffn-brown.json', paper: 'qffn-brown-paper.json' },
  qtha: { small: 'qtha-brown.json', paper: 'qtha-brown-paper.json' },
};

describe.each(listKindMetas().map((m) => [m.kind, m] as const))('%s wizard', (kind, meta) => {
  const defaults = JSON.parse(JSON.stringify(meta.schema.parse({}))) as Config;
  const spec = wizardFor(kind, defaults)!;
  const open = () => new WizardState(new FakeLabApi(), spec, defaults);

  it('is generated from the metadata, with an input for every field of the schema', () => {
    expect(hasWizard(kind)).toBe(true);
    const fields = spec.steps.flatMap((s) => s.fields);
    const ids = fields.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    const shown = new Set(fields.map((f) => f.path.join('.')));
    for (const f of meta.fields) expect(shown.has(f.key), `${kind}: ${f.key} has no input`).toBe(true);
    for (const f of fields) {
      expect(f.label, `${kind}: ${f.id}`).not.toBe('');
      expect(f.help, `${kind}: ${f.id}`).not.toBe('');
    }
  });

  it('opens on the small preset; every preset is valid, says how long it takes, and matches its example', () => {
    const w = open();
    expect(spec.presets.map((p) => p.id)).toEqual(['small', 'paper']);
    expect(w.preset).toBe('small');
    for (const p of spec.presets) {
      w.applyPreset(p.id);
      expect(p.about.length, `${kind} ${p.id}`).toBeGreaterThan(10);
      // no typed time: how long it takes comes from the work model and the calibration
      expect(p.about, `${kind} ${p.id}`).not.toMatch(/\b(seconds?|minutes?|hours?|days?|\d+ ?(s|min|h))\b/);
      expect(w.presetEstimate(p.id, null), `${kind} ${p.id}`).toBe('calibrate for an estimate');
      expect(meta.schema.safeParse(w.config).success, `${kind} ${p.id}`).toBe(true);
      expect(Object.keys(w.errors)).toEqual([]);
      const file = EXAMPLES[kind][p.id];
      if (file) expect(meta.schema.parse(w.config)).toEqual(meta.schema.parse(example(file)));
    }
  });

  it('its preview is the kind’s own parameter counts, circuits and resources of the parsed config', () => {
    const w = open();
    for (const p of spec.presets) {
      w.applyPreset(p.id);
      const parsed = meta.schema.parse(w.config);
      expect(w.preview).toEqual({
        models: meta.parameterCounts(parsed),
        circuits: summarizeCircuits(meta.circuits(parsed)),
        resources: meta.resources(parsed),
      });
      for (const m of w.preview!.models) if (m.params !== null) expect(m.params).toBeGreaterThan(0);
    }
  });

  it('steps through to the review and sends the config the schema accepts', async () => {
    const api = new FakeLabApi();
    const w = new WizardState(api, spec, defaults);
    for (let i = 0; i < spec.steps.length; i++) expect(w.next(), `${kind} step ${i}`).toBe(true);
    expect(w.isReview).toBe(true);
    const run = await w.submit();
    expect(run?.kind).toBe(kind);
    const sent = api.calls.find((c) => c.method === 'createRun')!.arg as { config: Config };
    expect(meta.schema.safeParse(sent.config).success).toBe(true);
  });
});

describe('wizard previews by kind', () => {
  it('qdllm and qhead show the counts of the small examples, and what is unknown until the run', () => {
    const meta = (k: string) => listKindMetas().find((m) => m.kind === k)!;
    const q = meta('qdllm');
    const qd = JSON.parse(JSON.stringify(q.schema.parse({}))) as Config;
    const w = new WizardState(new FakeLabApi(), wizardFor('qdllm', qd)!, qd);
    // E = 48 (teacher width), n = 6, L = 3, C = 2: 48·6 + 6 + 3·41 + 6·2 + 2
    expect(w.preview!.models[0]).toMatchObject({ key: 'quantum', params: 431 });
    w.edit('teacher.source', 'gguf');
    expect(w.preview).toBeNull(); // no model path yet
    w.edit('teacher.modelPath', '/models/q.gguf');
    expect(w.preview!.models[0]).toMatchObject({ params: null, needs: ['E: the teacher’s width'] });
    const h = meta('qhead');
    const hd = JSON.parse(JSON.stringify(h.schema.parse({}))) as Config;
    const wh = new WizardState(new FakeLabApi(), wizardFor('qhead', hd)!, hd);
    // the small example's head has 114 parameters and its MLP 142 (docs/methods.md)
    expect(wh.preview!.models.map((m) => [m.key, m.params])).toEqual([
      ['quantum', 114],
      ['logreg', 260],
      ['mlp', 142],
    ]);
    wh.edit('encoder.type', 'hf-dir');
    wh.edit('encoder.path', '/models/minilm');
    expect(wh.preview!.models).toEqual([expect.objectContaining({ params: null })]);
    expect(wh.preview!.circuits).toEqual([]);
  });
});
