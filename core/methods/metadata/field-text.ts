// Fields in words, for the wizard's help lines, `qlab` and the docs: the allowed range of a field as the
// schema states it ("2 to 24 qubits", "> 0 and ≤ 10", "each 4 to 26; at most 6").
import type { FieldMeta } from './meta';

function bound(f: FieldMeta): string | null {
  const unit = f.unit ? ` ${f.unit}` : '';
  const { min, max } = f;
  if (min !== undefined && max !== undefined && !f.minExclusive && !f.maxExclusive)
    return `${min} to ${max}${unit}`;
  const lo = min === undefined ? null : `${f.minExclusive ? '>' : '≥'} ${min}`;
  const hi = max === undefined ? null : `${f.maxExclusive ? '<' : '≤'} ${max}`;
  const both = [lo, hi].filter((x) => x !== null).join(' and ');
  return both ? `${both}${unit}` : null;
}

function items(f: FieldMeta): string | null {
  const { minItems: lo, maxItems: hi } = f;
  if (lo === undefined && hi === undefined) return null;
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi} values`;
  return lo !== undefined ? `at least ${lo} values` : `at most ${hi} values`;
}

/** The values a field accepts, in words, or null when any value of its type will do. */
export function rangeText(f: FieldMeta): string | null {
  if (f.type === 'enum' && f.options) return `one of ${f.options.join(', ')}`;
  const b = bound(f);
  if (!f.type.endsWith('-list')) return b;
  const parts = [b === null ? null : `each ${b}`, items(f)].filter((x) => x !== null);
  return parts.length ? parts.join('; ') : null;
}
