// Each kind's metadata against its schema and its real models: every field's bounds and options are probed
// in the schema (a value at each bound passes, one beyond it is refused at that field), defaults agree, the
// parameter counts equal countParameters of the models the jobs build, and the lab's kinds carry the
// metadata the renderer imports.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeDatasets } from '../../../core/data';
import { listKindMetas } from '../../../core/methods/catalog';
import { LM_CORPORA } from '../../../core/data/names';
import type { FieldMeta, KindMeta } from '../../../core/methods/metadata/meta';
import { qdllmMeta } from '../../../core/methods/qdllm/meta';
import { LOSS_MODES, QdllmConfigSchema } from '../../../core/methods/qdllm/schema';
import { QuantumStudent, transformerStudent, type StudentData } from '../../../core/methods/qdllm/students';
import { headShape, qheadMeta } from '../../../core/methods/qhead/meta';
import { logisticModel, quantumHead, trainableCount } from '../../../core/methods/qhead/models';
import { QheadConfigSchema } from '../../../core/methods/qhead/schema';
import { listJobKinds } from '../../../core/methods/registry';
import { vqcFitKind } from '../../../core/methods/vqc-fit';
import { vqcFitMeta } from '../../../core/methods/vqc-fit/meta';
import { DISTILL_MODES } from '../../../core/nn/distill-loss';
import { MlpClassifier } from '../../../core/nn/mlp';
import { countParameters } from '../../../core/nn/tensor';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import { resources } from '../../../core/quantum/resources';
import { fakeJobContext } from '../../helpers/job-context';
import { tinyQdllm, tinyQhead } from '../../helpers/tiny-configs';

type Obj = Record<string, unknown>;

/** A copy of `c` with `v` at the dotted key, objects created on the way (undefined removes the key). */
function put(c: Obj, key: string, v: unknown): Obj {
  const [head, ...rest] = key.split('.');
  const out = { ...c };
  if (!rest.length) {
    if (v === undefined) delete out[head];
    else out[head] = v;
  } else out[head] = put((c[head] as Obj | undefined) ?? {}, rest.join('.'), v);
  return out;
}

/** The issues the schema raises at this field (or inside it), less the cross-field rules (code custom). */
function issuesAt(meta: KindMeta, f: FieldMeta, value: unknown): z.core.$ZodIssue[] {
  let c = JSON.parse(JSON.stringify(meta.schema.parse({}))) as Obj;
  if (f.variant) {
    const parent = f.variant.path.split('.').slice(0, -1).join('.');
    const disc = f.variant.path.split('.').at(-1)!;
    c = put(c, parent, { [disc]: f.variant.in![0] });
  }
  // a discriminator's value picks the variant: start that object afresh
  const disc = meta.fields.some((g) => g.variant?.path === f.key);
  if (disc) c = put(c, f.path.slice(0, -1).join('.'), {});
  const r = meta.schema.safeParse(put(c, f.key, value));
  if (r.success) return [];
  return r.error.issues.filter((i) => {
    const p = i.path.join('.');
    return (
      i.code !== 'custom' && (p === f.key || p.startsWith(`${f.key}.`) || i.code === 'unrecognized_keys')
    );
  });
}

function probes(f: FieldMeta): { ok: unknown[]; bad: unknown[] } {
  const list = f.type.endsWith('-list');
  const wrap = (v: unknown): unknown => (list ? Array(Math.max(1, f.minItems ?? 1)).fill(v) : v);
  const ok: unknown[] = [];
  const bad: unknown[] = [];
  const int = f.type === 'int' || f.type === 'int-list';
  const step = int ? 1 : 1e-6;
  if (f.min !== undefined) {
    ok.push(wrap(f.minExclusive ? f.min + step : f.min));
    bad.push(wrap(f.minExclusive ? f.min : f.min - step));
  }
  if (f.max !== undefined) {
    ok.push(wrap(f.maxExclusive ? f.max - step : f.max));
    bad.push(wrap(f.maxExclusive ? f.max : f.max + step));
  }
  if (int && f.min !== undefined) bad.push(wrap(f.min + 0.5));
  if (f.options) ok.push(...f.options.map(wrap));
  if (f.type === 'enum') bad.push('not-an-option');
  if (f.type === 'boolean') ok.push(true, false);
  if (f.type === 'boolean' || f.type === 'int' || f.type === 'number') bad.push('text');
  if (f.empty === 'null') ok.push(null);
  if (f.empty === 'absent') ok.push(undefined);
  if (list && f.maxItems !== undefined) bad.push(Array(f.maxItems + 1).fill(f.min ?? 1));
  if (list && f.minItems !== undefined && f.minItems > 0) bad.push(Array(f.minItems - 1).fill(f.min ?? 1));
  return { ok, bad };
}

describe.each(listKindMetas().map((m) => [m.kind, m] as const))('%s metadata', (kind, meta) => {
  it('agrees with the schema on every field: bounds, whole numbers, options, empties, defaults', () => {
    const defaults = meta.schema.parse({}) as Obj;
    expect(meta.fields.length).toBeGreaterThan(5);
    for (const f of meta.fields) {
      expect(f.label, `${kind}.${f.key} label`).not.toBe('');
      expect(f.help, `${kind}.${f.key} help`).not.toBe('');
      if (f.type === 'object' || f.type === 'record') continue;
      const { ok, bad } = probes(f);
      for (const v of ok) expect(issuesAt(meta, f, v), `${kind}.${f.key} = ${JSON.stringify(v)}`).toEqual([]);
      for (const v of bad)
        expect(
          issuesAt(meta, f, v).length,
          `${kind}.${f.key} = ${JSON.stringify(v)} refused`,
        ).toBeGreaterThan(0);
      const at = f.path.reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], defaults);
      const parent = f.path.slice(0, -1).reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], defaults);
      if (f.default !== undefined && !f.variant && parent !== undefined)
        expect(at, `${kind}.${f.key} default`).toEqual(f.default);
    }
  });

  it('is the metadata of the lab’s job kind, which takes its name, schema and defaults from it', () => {
    const job = listJobKinds().find((k) => k.kind === kind)!;
    expect(job.meta).toBe(meta);
    expect(job.schema).toBe(meta.schema);
    expect(job.defaults).toEqual(meta.schema.parse({}));
    expect([job.title, job.description]).toEqual([meta.title, meta.description]);
  });

  it('summarises its circuits with core/quantum/resources on the circuits it builds', () => {
    for (const p of meta.presets) {
      const cfg = meta.schema.parse(p.config);
      for (const c of meta.circuits(cfg)) expect(resources(c.circuit).qubits).toBe(c.circuit.qubits);
      for (const r of meta.resources(cfg)) expect(r.value, `${kind} ${r.label}`).toBeGreaterThan(0);
    }
  });
});

describe('kind metadata: shared names', () => {
  it('the schemas’ copies of names from Node-side modules stay equal to them', () => {
    expect([...LOSS_MODES].sort()).toEqual([...DISTILL_MODES].sort());
    expect([...LM_CORPORA].sort()).toEqual(
      describeDatasets()
        .filter((d) => d.kind === 'lm')
        .map((d) => d.name)
        .sort(),
    );
    expect(listJobKinds().map((k) => k.kind)).toEqual(listKindMetas().map((m) => m.kind));
  });
});

describe('parameter counts against the built models', () => {
  const sim = createCpuSimulator({ precision: 'f64' });
  const count = (m: { parameters(): Parameters<typeof countParameters>[0] }) =>
    countParameters(m.parameters(), true);

  it('qdllm: quantum student, matched MLP and transformer student of tiny and small configs', () => {
    for (const raw of [
      tinyQdllm(),
      tinyQdllm({ qubits: 4, layers: 3, dataset: 'brown-topics' }),
      qdllmMeta.presets[0].config,
    ]) {
      const cfg = QdllmConfigSchema.parse(raw);
      const [q, mlp, tr] = qdllmMeta.parameterCounts(cfg);
      const t = cfg.teacher;
      if (t.source !== 'lab-transformer') throw new Error('a lab teacher');
      const C = cfg.dataset === 'brown-topics' ? 4 : 2;
      expect(q.params).toBe(
        count(new QuantumStudent(t.hiddenSize, cfg.qubits, cfg.layers, C, cfg.scale, sim, 1)),
      );
      const h = Number(/-(\d+)-/.exec(mlp.label)![1]);
      expect(mlp.params).toBe(count(new MlpClassifier(t.hiddenSize, h, C, 1)));
      const ts = cfg.transformerStudent;
      const student = transformerStudent({} as StudentData, ts, t.vocabSize, cfg.maxTokens, C, 1);
      expect(tr.params).toBe(count(student));
    }
  });

  it('qhead: quantum head, logistic regression and matched MLP', () => {
    for (const raw of [
      tinyQhead(4),
      tinyQhead(3, { head: { qubits: 3, encoders: 2, skip: false, biasAmplitude: 0 } }),
      qheadMeta.presets[0].config,
    ]) {
      const cfg = QheadConfigSchema.parse(raw);
      const s = headShape(cfg)!;
      const [q, lr, mlp] = qheadMeta.parameterCounts(cfg);
      expect(q.params).toBe(trainableCount(quantumHead(s, sim, 1)));
      expect(lr.params).toBe(trainableCount(logisticModel(s.dim, s.classes, 1)));
      const h = Number(/-(\d+)-/.exec(mlp.label)![1]);
      expect(mlp.params).toBe(count(new MlpClassifier(s.dim, h, s.classes, 1)));
    }
  });

  it('vqc-fit: the counts the job reports for the circuit and its MLP', async () => {
    const cfg = vqcFitMeta.schema.parse({ samples: 16, epochs: 1, qubits: 2, layers: 2 });
    const { ctx } = fakeJobContext(tmpdir(), 3);
    const res = await vqcFitKind.run(cfg, ctx);
    const [q, mlp] = vqcFitMeta.parameterCounts(cfg);
    expect([q.params, mlp.params]).toEqual([res.summary.quantum_params, res.summary.mlp_params]);
  });
});
