// A kind's fields read off its zod schema through JSON Schema (z.toJSONSchema): type, bounds, options,
// default, and the label/help/unit/sweepable each field carries in `.meta()`. Deriving them means the
// metadata cannot disagree with what the schema accepts; test/unit/methods/kind-meta.test.ts probes both.
import { z } from 'zod';
import type { Condition, DataFileColumns, FieldMeta, FieldType } from './meta';

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  title?: string;
  description?: string;
  unit?: string;
  sweepable?: boolean;
  file?: boolean;
  dataFile?: DataFileColumns;
  optionLabels?: Record<string, string>;
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** The schema's JSON Schema (input side: defaulted keys are optional) and every field in it. */
export function describeFields(schema: z.ZodType): { jsonSchema: JsonSchema; fields: FieldMeta[] } {
  const jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const fields: FieldMeta[] = [];
  walkObject(jsonSchema, [], undefined, fields);
  return { jsonSchema, fields };
}

/** Splits `anyOf: [X, {type: null}]` into X and nullable; meta on the outside wins over X's own. */
export function unwrapNull(s: JsonSchema): { inner: JsonSchema; nullable: boolean } {
  const alts = s.anyOf;
  if (!alts || alts.length !== 2 || !alts.some((a) => a.type === 'null'))
    return { inner: s, nullable: false };
  const { anyOf: _alts, ...outer } = s;
  return { inner: { ...alts.find((a) => a.type !== 'null')!, ...outer }, nullable: true };
}

/** The discriminator and variants of a discriminated union of objects, or null. */
export function unionOf(s: JsonSchema): { key: string; variants: Map<string, JsonSchema> } | null {
  const alts = s.oneOf ?? s.anyOf;
  const first = alts?.[0]?.properties;
  if (!alts || !first) return null;
  const key = Object.keys(first).find((k) => alts.every((a) => typeof a.properties?.[k]?.const === 'string'));
  if (!key) return null;
  return { key, variants: new Map(alts.map((a) => [a.properties![key].const as string, a])) };
}

function walkObject(obj: JsonSchema, path: string[], variant: Condition | undefined, out: FieldMeta[]): void {
  const required = new Set(obj.required ?? []);
  for (const [k, p] of Object.entries(obj.properties ?? {}))
    walkValue(p, [...path, k], !required.has(k), variant, out);
}

function walkValue(
  s: JsonSchema,
  path: string[],
  optional: boolean,
  variant: Condition | undefined,
  out: FieldMeta[],
): void {
  const { inner, nullable } = unwrapNull(s);
  const union = unionOf(inner);
  if (union) {
    const values = [...union.variants.keys()];
    const disc = { ...inner, type: 'string', enum: values, default: defaultOf(inner, union.key) };
    out.push(leaf(disc, [...path, union.key], 'enum', false, false, variant));
    for (const [value, v] of union.variants) {
      const { [union.key]: _disc, ...rest } = v.properties ?? {};
      walkObject(
        { ...v, properties: rest },
        path,
        { path: [...path, union.key].join('.'), in: [value] },
        out,
      );
    }
    return;
  }
  if (inner.type === 'object' && inner.properties) {
    if (inner.title) out.push(leaf(inner, path, 'object', nullable, optional, variant));
    walkObject(inner, path, variant, out);
    return;
  }
  out.push(leaf(inner, path, typeOf(inner), nullable, optional, variant));
}

function defaultOf(s: JsonSchema, key: string): unknown {
  return s.default && typeof s.default === 'object' ? (s.default as Record<string, unknown>)[key] : undefined;
}

function typeOf(s: JsonSchema): FieldType {
  if (s.enum) return 'enum';
  if (s.type === 'integer') return 'int';
  if (s.type === 'number' || s.type === 'boolean' || s.type === 'string') return s.type;
  if (s.type === 'array')
    return s.items?.type === 'integer'
      ? 'int-list'
      : s.items?.type === 'string'
        ? 'string-list'
        : 'number-list';
  return 'record';
}

function leaf(
  s: JsonSchema,
  path: string[],
  type: FieldType,
  nullable: boolean,
  optional: boolean,
  variant: Condition | undefined,
): FieldMeta {
  const b = type.endsWith('-list') ? (s.items ?? {}) : s;
  const f: FieldMeta = {
    key: path.join('.'),
    path,
    label: s.title ?? '',
    help: s.description ?? '',
    type,
    sweepable: s.sweepable === true,
  };
  if (s.file === true) f.file = true;
  if (s.dataFile) f.dataFile = s.dataFile;
  if (s.unit) f.unit = s.unit;
  const min = b.exclusiveMinimum ?? b.minimum;
  const max = b.exclusiveMaximum ?? b.maximum;
  if (min !== undefined && Math.abs(min) < SAFE) f.min = min;
  if (max !== undefined && Math.abs(max) < SAFE) f.max = max;
  if (b.exclusiveMinimum !== undefined) f.minExclusive = true;
  if (b.exclusiveMaximum !== undefined) f.maxExclusive = true;
  if (type.endsWith('-list') && s.minItems !== undefined) f.minItems = s.minItems;
  if (type.endsWith('-list') && s.maxItems !== undefined) f.maxItems = s.maxItems;
  if (s.enum) f.options = s.enum.map(String);
  if (s.optionLabels) f.optionLabels = s.optionLabels;
  if (nullable) f.empty = 'null';
  else if (optional && s.default === undefined) f.empty = 'absent';
  if (s.default !== undefined) f.default = s.default;
  if (variant) f.variant = variant;
  return f;
}
