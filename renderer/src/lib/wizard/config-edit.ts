// Reading and writing a kind's config by dotted key, guided by its JSON Schema: conditions of the wizard's
// metadata, the defaults an object starts from when switched on, and a discriminator write that swaps the
// object for the chosen variant (the kind's default when it is that variant, else the variant's defaults).
import { type When, unionOf, unwrapNull, type JsonSchema } from '../../../../core/api/kinds';
import { getAt, isPlainObject } from '../config-form';
import { withValue, type Config } from './spec';

export const valueAt = (c: unknown, key: string): unknown => getAt(c, key.split('.'));

/** Whether every condition holds for the config (absent values are undefined). */
export function holds(when: When, c: Config): boolean {
  return when.every((k) => {
    const v = valueAt(c, k.path);
    if (k.present !== undefined && (v !== undefined) !== k.present) return false;
    if (k.in && !k.in.some((x) => x === v)) return false;
    return !k.notIn?.some((x) => x === v);
  });
}

/** The schema of the value at `key`, through the variants the config is in (the first when unset). */
export function schemaAt(root: JsonSchema, key: string, c: Config): JsonSchema | undefined {
  const path = key.split('.');
  let node: JsonSchema | undefined = root;
  for (let i = 0; i < path.length && node; i++) {
    node = unwrapNull(node).inner;
    const union = unionOf(node);
    if (union) {
      const chosen = valueAt(c, [...path.slice(0, i), union.key].join('.'));
      node = union.variants.get(String(chosen)) ?? [...union.variants.values()][0];
    }
    node = node.properties?.[path[i]];
  }
  return node && unwrapNull(node).inner;
}

/** An object as its schema starts it: its defaults, '' for required strings, required objects filled. */
export function fillDefaults(s: JsonSchema): Config {
  const out: Config = {};
  const required = new Set(s.required ?? []);
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const inner = unwrapNull(p).inner;
    if (p.default !== undefined) out[k] = structuredClone(p.default);
    else if (inner.const !== undefined) out[k] = inner.const;
    else if (!required.has(k)) continue;
    else if (inner.type === 'string') out[k] = '';
    else if (inner.type === 'object') out[k] = fillDefaults(inner);
  }
  return out;
}

/** The config with the object at `key` as its schema starts it. */
export function fillKey(root: JsonSchema, c: Config, key: string): Config {
  return withValue(c, key.split('.'), fillDefaults(schemaAt(root, key, c) ?? {}));
}

/** The config with `value` at `key`; a new value of a union's discriminator swaps the object's variant. */
export function writeKey(root: JsonSchema, defaults: Config, c: Config, key: string, value: unknown): Config {
  const path = key.split('.');
  const parentKey = path.slice(0, -1).join('.');
  const parent = parentKey ? schemaAt(root, parentKey, c) : undefined;
  const union = parent && unionOf(parent);
  const last = path[path.length - 1];
  if (!union || union.key !== last || valueAt(c, key) === value) return withValue(c, path, value);
  const mine = valueAt(defaults, parentKey);
  const base =
    isPlainObject(mine) && mine[last] === value
      ? structuredClone(mine)
      : fillDefaults(union.variants.get(String(value)) ?? {});
  return withValue(c, path.slice(0, -1), { ...base, [last]: value });
}
