// Display formatting shared by the screens.

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A figure this much smaller than the largest of the figures shown beside it (its column, its series) is a
 * rounding residue of zero (2.66e-19 among accuracies of order 1) and reads 0. Without such a scale a tiny
 * figure is taken as meant (a p-value of 3e-14) and written with its exponent.
 */
const RESIDUE = 1e-12;
/** Absolute floor for percentage strings, which come without a column scale. */
const ZERO = 1e-12;

/** Strips a mantissa's trailing zeros and the exponent's plus: 1.50e+38 → 1.5e38. */
function exponent(v: number): string {
  const [m, e] = v.toExponential(2).split('e');
  return `${m.replace(/\.?0+$/, '')}e${e.replace('+', '')}`;
}

/** Two neighbouring magnitudes further apart than this are separate clusters (see scaleOf). */
const GAP = 1e9;

/**
 * The scale of figures shown together: the smallest magnitude of the cluster that holds the largest finite
 * one, a cluster being magnitudes each within GAP of the next (0 when there is none). A residue (2.66e-19
 * among accuracies) sits alone far below its column; a column that climbs steadily through thirty decades
 * (energies from 3e-6 to 1.6e17 J) is one cluster, so its small figures are meant and never read 0.
 */
export function scaleOf(values: Iterable<unknown>): number {
  const mags: number[] = [];
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v) && v !== 0) mags.push(Math.abs(v));
  if (mags.length === 0) return 0;
  mags.sort((a, b) => b - a);
  let scale = mags[0];
  for (let j = 1; j < mags.length && mags[j - 1] / mags[j] <= GAP; j++) scale = mags[j];
  return scale;
}

/** A log axis' tick: plain between 0.001 and 10,000, else a power of ten's exponent form (1e6, 1e-9). */
export function formatLogTick(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return formatNumber(v);
  return v >= 1e4 || v < 1e-3 ? exponent(v) : formatNumber(v);
}

/**
 * A number for people: 4 significant digits, thousands grouped from 10,000, exponent form only past 1e15 or
 * below 1e-3, and 0 for a rounding residue of its `scale` (see RESIDUE; the number alone by default).
 */
export function formatNumber(v: number, scale = Math.abs(v)): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'n/a' : v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a === 0 || a < RESIDUE * scale) return '0';
  if (a >= 1e15 || a < 1e-3) return exponent(v);
  if (a >= 1e4) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(4)));
}

/** A percentage string from a report ('19563.415%'): whole percent from 100 %, else 3 significant digits. */
function formatPercentText(s: string): string | null {
  const m = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s?%$/.exec(s.trim());
  if (!m) return null;
  const v = Number(m[1]);
  if (!Number.isFinite(v)) return null;
  if (Math.abs(v) < ZERO) return '0%';
  return Math.abs(v) >= 100 ? `${Math.round(v).toLocaleString('en-US')}%` : `${Number(v.toPrecision(3))}%`;
}

/** Numbers as formatNumber (with the scale of the figures beside them); percentage strings tidied; other strings as they are. */
export function formatValue(v: unknown, scale?: number): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return formatNumber(v, scale);
  // a job's table may carry a NaN it wrote as text (a t statistic of two equal samples)
  if (typeof v === 'string') return v === 'NaN' ? 'n/a' : (formatPercentText(v) ?? v);
  return JSON.stringify(v);
}

/** A value in a one-line description: a list of records as their values (`cpu wasm-simd f64, …`). */
function infoValue(v: unknown): string {
  if (Array.isArray(v))
    return v
      .map((x) =>
        x !== null && typeof x === 'object' ? Object.values(x).map(infoValue).join(' ') : infoValue(x),
      )
      .join(', ');
  if (v !== null && typeof v === 'object')
    return Object.entries(v)
      .map(([k, x]) => `${k} ${infoValue(x)}`)
      .join(', ');
  return formatValue(v);
}

/**
 * A record on one line, `a: 1 · b: 2`; an entry named like the label in front (a backend's own `backend` or
 * `backends`) shows its value alone, so the header never reads `backend backends: …`.
 */
export function formatInfo(o: Record<string, unknown>, label = ''): string {
  return Object.entries(o)
    .map(([k, v]) =>
      label !== '' && (k === label || k === `${label}s`) ? infoValue(v) : `${k}: ${infoValue(v)}`,
    )
    .join(' · ');
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A file size: 812 B, 4.2 KiB, 1 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const [v, unit] =
    n < 1024 ** 2 ? [n / 1024, 'KiB'] : n < 1024 ** 3 ? [n / 1024 ** 2, 'MiB'] : [n / 1024 ** 3, 'GiB'];
  return `${Number(v.toPrecision(3))} ${unit}`;
}

/** Each column's scale (scaleOf its cells) of a table given as rows. */
export function columnScales(rows: readonly (readonly unknown[])[]): number[] {
  const width = Math.max(0, ...rows.map((r) => r.length));
  return Array.from({ length: width }, (_, j) => scaleOf(rows.map((r) => r[j])));
}

/**
 * A metric key cut where a line may break inside it: after each run of _ / . : - and between a lower-case and an
 * upper-case letter (camelCase); joined back it is the key. quantum_test_acc → quantum_ | test_ | acc.
 */
export function keyParts(key: string): string[] {
  return key.split(/(?<=[_/.:-])(?=[^_/.:-])|(?<=[a-z])(?=[A-Z])/);
}
