// Text output for the terminal: aligned tables, durations, a progress bar, short ids.
import type { RunSummary } from '../api/lab-api';
import { runDurationMs } from '../api/run-duration';

/** Left-aligned columns separated by two spaces; numbers right-aligned. */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map(cell));
  const numeric = header.map(
    (_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] == null),
  );
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

export function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return formatNumber(v);
  return printable(v);
}

/** Text safe for a terminal: control characters (escape sequences, newlines) shown as \uXXXX, never sent raw. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

export function printable(s: string): string {
  return s.replace(CONTROL_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Six significant digits, no trailing noise; integers as integers. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - m * 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Wall time of a run so far (or in total once ended; a run ended without a finish stops at its last heartbeat). */
export function runDuration(run: RunSummary, now = Date.now()): number | null {
  return runDurationMs(run, now);
}

/** "2025-01-02 13:04:05" in local time: compact and sortable. */
export function formatTime(iso: string | null): string {
  if (iso === null) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function progressBar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

export function runsTable(runs: RunSummary[], now = Date.now()): string {
  return table(
    ['ID', 'KIND', 'NAME', 'STATUS', 'PROGRESS', 'CREATED', 'DURATION', 'CHILDREN', 'TAGS'],
    runs.map((r) => {
      const d = runDuration(r, now);
      return [
        // A child shows under its parent's row, indented, when the parent is listed with it.
        r.parentId !== null && runs.some((p) => p.id === r.parentId) ? `└ ${shortId(r.id)}` : shortId(r.id),
        r.kind,
        r.name,
        r.status,
        `${Math.floor(r.progress * 100)}%`,
        formatTime(r.createdAt),
        d === null ? '-' : formatDuration(d),
        r.childCount > 0 ? String(r.childCount) : '',
        r.tags.join(','),
      ];
    }),
  );
}
