// One wizard for any job kind, built from the kind's metadata (core/methods/<kind>/meta.ts): its steps'
// items become typed fields whose labels, help, options and ranges come from the schema; switches and
// conditional groups are the few things the metadata states beside the schema.
import {
  rangeText,
  fieldsAt,
  submissionPlan,
  type FieldMeta,
  type FieldRef,
  type GroupMeta,
  type KindMeta,
  type StepItem,
  type SwitchMeta,
  type When,
} from '../../../../core/api/kinds';
import { fillKey, holds, valueAt, writeKey } from './config-edit';
import { estimateOf, extrasOf, issuesOf, previewOf } from './preview';
import { deepMerge, withValue, type Config, type FieldKind, type WizardField, type WizardSpec } from './spec';
import type { Calibration } from '../../../../core/api/lab-types';
import { SEED_AXIS_SPEC, type SweepAxisSpec } from './sweep';

const isSwitch = (x: StepItem): x is SwitchMeta => typeof x === 'object' && 'choices' in x;
const isGroup = (x: StepItem): x is GroupMeta => typeof x === 'object' && 'items' in x;
const asRef = (x: StepItem): FieldRef | null => (typeof x === 'string' ? null : (x as FieldRef));

function kindOf(f: FieldMeta, options: readonly string[] | undefined): FieldKind {
  if (options || f.type === 'enum') return 'select';
  if (f.type === 'string') return 'text';
  if (f.type === 'string-list') return 'text-list';
  if (f.type === 'record') return 'json';
  if (f.type === 'object') return 'boolean';
  return f.type;
}

/** Keys the steps place themselves (and switches' keys), which an object key's expansion leaves out. */
function placedKeys(items: readonly StepItem[], out = new Set<string>()): Set<string> {
  for (const it of items)
    if (isGroup(it)) placedKeys(it.items, out);
    else if (isSwitch(it) || asRef(it)) out.add((it as FieldRef | SwitchMeta).key);
    else if (typeof it === 'string') out.add(it);
  return out;
}

/** The sweep's axes: each field the metadata marks sweepable (once per key, offered while a variant holds), then the seed. */
function sweepAxesOf(meta: KindMeta): SweepAxisSpec[] {
  const keys = [...new Set(meta.fields.filter((f) => f.sweepable).map((f) => f.key))];
  const axes = keys.map((key): SweepAxisSpec => {
    const metas = fieldsAt(meta, key);
    const f = metas[0];
    const variant = (c: Config) => metas.find((m) => !m.variant || holds([m.variant], c));
    return {
      field: key,
      label: f.label,
      help: f.help,
      kind: kindOf(f, f.options),
      ...(f.options ? { options: f.options } : {}),
      range: (c) => {
        const m = variant(c) ?? f;
        return rangeText(m);
      },
      when: (c) => variant(c) !== undefined,
    };
  });
  return [...axes, SEED_AXIS_SPEC];
}

export function buildWizard(meta: KindMeta, defaults: Config): WizardSpec {
  const placed = placedKeys(meta.steps.flatMap((s) => s.items));
  const root = meta.jsonSchema;

  function field(key: string, when: When, ref: FieldRef | null): WizardField {
    const metas = fieldsAt(meta, key);
    if (!metas.length) throw new Error(`${meta.kind} wizard: no field ${key} in the schema`);
    const f = metas[0];
    const variants = metas.flatMap((m) => (m.variant ? [m.variant] : []));
    const options = ref?.options ?? f.options;
    const labels = { ...f.optionLabels, ...ref?.optionLabels };
    const choices = options?.map((o) => ({ value: o, label: labels[o] ?? o }));
    const out: WizardField = {
      id: ref?.id ?? key,
      label: ref?.label ?? f.label,
      help: ref?.help ?? f.help,
      kind: kindOf(f, options),
      path: f.path,
      options: f.empty && choices ? [{ value: '', label: '—' }, ...choices] : choices,
      when: (c) => holds(when, c) && (!variants.length || variants.some((v) => holds([v], c))),
      // a select shows its options already
      range: options
        ? undefined
        : (c) => rangeText(metas.find((m) => !m.variant || holds([m.variant], c)) ?? f),
      write: (c, v) => writeKey(root, defaults, c, key, v),
    };
    if (f.empty) out.empty = f.empty;
    if (f.type !== 'object') return out;
    // an optional object: on starts it from its schema defaults, off leaves it out
    return {
      ...out,
      range: undefined,
      read: (c) => String(valueAt(c, key) !== undefined),
      write: (c, v) => (v ? fillKey(root, c, key) : withValue(c, f.path, undefined)),
    };
  }

  function switchField(s: SwitchMeta, when: When): WizardField {
    const read = (c: Config): string =>
      (s.choices.find((ch) => holds(ch.when, c)) ?? s.choices.at(-1)!).value;
    return {
      id: s.id,
      label: s.label,
      help: s.help,
      kind: 'select',
      path: s.key.split('.'),
      options: s.choices.map(({ value, label }) => ({ value, label })),
      when: (c) => holds(when, c),
      read,
      write(c, v) {
        const ch = s.choices.find((x) => x.value === v);
        if (!ch || read(c) === v) return c;
        let out = c;
        for (const k of ch.remove ?? []) out = withValue(out, k.split('.'), undefined);
        for (const k of ch.fill ?? []) out = fillKey(root, out, k);
        for (const [k, x] of Object.entries(ch.set ?? {})) out = writeKey(root, defaults, out, k, x);
        return out;
      },
    };
  }

  function fields(items: readonly StepItem[], when: When): WizardField[] {
    return items.flatMap((it): WizardField[] => {
      if (isSwitch(it)) return [switchField(it, when)];
      if (isGroup(it)) return fields(it.items, [...when, ...it.when]);
      const ref = asRef(it);
      if (ref) return [field(ref.key, when, ref)];
      const key = it as string;
      if (fieldsAt(meta, key).some((f) => f.type !== 'object')) return [field(key, when, null)];
      // an object's key: its fields in schema order, less those placed elsewhere and on/off switches
      const under = meta.fields.filter((f) => f.key.startsWith(`${key}.`) && f.type !== 'object');
      return [...new Set(under.map((f) => f.key))]
        .filter((k) => !placed.has(k))
        .map((k) => field(k, when, null));
    });
  }

  return {
    kind: meta.kind,
    steps: meta.steps.map((s) => ({
      id: s.id,
      title: s.title,
      fields: fields(s.items, []),
      // the keys its items name, so an error under a hidden field still opens this step
      owns: [...placedKeys(s.items), ...(s.owns ?? [])],
      ...(s.note ? { note: (c: Config) => (holds(s.note!.when, c) ? s.note!.text : null) } : {}),
    })),
    presets: meta.presets.map((p) => ({
      id: p.id,
      label: p.label,
      about: p.about,
      // through the schema, so every field shows the value that will run (defaults filled in)
      build: (d: Config) => {
        const merged = deepMerge(d, p.config);
        const r = meta.schema.safeParse(merged);
        return r.success ? (JSON.parse(JSON.stringify(r.data)) as Config) : merged;
      },
    })),
    validate: (c) => issuesOf(meta, c),
    preview: (c) => previewOf(meta, c),
    extras: (c, calibration) => extrasOf(meta, c, calibration ?? null),
    sweepAxes: sweepAxesOf(meta),
    plan: (configs, sweep, copies) => submissionPlan(meta, configs, sweep, copies),
    ...(meta.work
      ? { estimate: (c: Config, calibration: Calibration | null) => estimateOf(meta, c, calibration) }
      : {}),
  };
}
