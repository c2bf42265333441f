// Circuit drawings: text (one line per wire, gate boxes in columns) and a standalone SVG string.
// Columns come from wire occupancy, where a multi-wire gate also blocks the wires its vertical
// line crosses, so connectors never overlap.
import type { Angle, Circuit, GateName, Operation } from './circuit';

/** Short angle label: θ3, 0.5·θ3, x1, π/2, 0.25. */
export function angleLabel(a: Angle): string {
  const scaled = (s: number | undefined, base: string): string =>
    s === undefined || s === 1 ? base : `${shortNumber(s)}·${base}`;
  switch (a.kind) {
    case 'param':
      return scaled(a.scale, `θ${a.index}`);
    case 'input':
      return scaled(a.scale, `x${a.index}`);
    case 'const':
      return shortNumber(a.value);
  }
}

function shortNumber(v: number): string {
  for (const d of [1, 2, 3, 4, 6, 8]) {
    const n = Math.round((v * d) / Math.PI);
    if (n !== 0 && Math.abs(v - (n * Math.PI) / d) < 1e-12) {
      const num = n === 1 ? 'π' : n === -1 ? '-π' : `${n}π`;
      return d === 1 ? num : `${num}/${d}`;
    }
  }
  const s = Number(v.toPrecision(3));
  return String(s);
}

const GATE_LABEL: Partial<Record<GateName, string>> = {
  PhaseShift: 'P',
  Sdg: 'S†',
  Tdg: 'T†',
  SX: '√X',
  I: 'I',
};

/** What each wire of an operation shows. */
interface Cell {
  kind: 'box' | 'control' | 'target' | 'swap';
  label: string;
}

function cellsOf(op: Operation): Map<number, Cell> {
  const cells = new Map<number, Cell>();
  if (op.type === 'amplitude') {
    for (const w of op.wires)
      cells.set(w, { kind: 'box', label: `Amp(x${op.start}…${op.start + op.length - 1})` });
    return cells;
  }
  const args = op.angles.length ? `(${op.angles.map(angleLabel).join(',')})` : '';
  const ctrl = (n: number): void => {
    for (let i = 0; i < n; i++) cells.set(op.wires[i], { kind: 'control', label: '●' });
  };
  switch (op.gate) {
    case 'CNOT':
    case 'Toffoli':
      ctrl(op.wires.length - 1);
      cells.set(op.wires[op.wires.length - 1], { kind: 'target', label: '⊕' });
      return cells;
    case 'CZ':
      ctrl(2);
      return cells;
    case 'SWAP':
      for (const w of op.wires) cells.set(w, { kind: 'swap', label: '×' });
      return cells;
    case 'CY':
    case 'CH':
    case 'CRX':
    case 'CRY':
    case 'CRZ':
    case 'CPhase':
    case 'CU3': {
      ctrl(1);
      const base = op.gate === 'CPhase' ? 'P' : op.gate.slice(1);
      cells.set(op.wires[1], { kind: 'box', label: base + args });
      return cells;
    }
    default: {
      const label = (GATE_LABEL[op.gate] ?? op.gate) + args;
      for (const w of op.wires) cells.set(w, { kind: 'box', label });
      return cells;
    }
  }
}

interface Layout {
  columns: { op: Operation; cells: Map<number, Cell>; lo: number; hi: number }[][];
}

function layout(circuit: Circuit): Layout {
  const free = new Array<number>(circuit.qubits).fill(0);
  const columns: Layout['columns'] = [];
  for (const op of circuit.ops) {
    const lo = Math.min(...op.wires);
    const hi = Math.max(...op.wires);
    let col = 0;
    for (let w = lo; w <= hi; w++) col = Math.max(col, free[w]);
    for (let w = lo; w <= hi; w++) free[w] = col + 1;
    while (columns.length <= col) columns.push([]);
    columns[col].push({ op, cells: cellsOf(op), lo, hi });
  }
  return { columns };
}

/** Text drawing, one line per wire: `0: ─H──●──RX(θ0)─`. Crossed wires show ┼, connectors │ between rows. */
export function drawText(circuit: Circuit): string {
  const n = circuit.qubits;
  const names = Array.from({ length: n }, (_, w) => `${w}: `);
  const pad = Math.max(...names.map((s) => s.length));
  const rows = names.map((s) => s.padStart(pad) + '─');
  for (const column of layout(circuit).columns) {
    const texts = new Array<string>(n).fill('');
    for (const item of column) {
      for (let w = item.lo; w <= item.hi; w++) texts[w] = item.cells.get(w)?.label ?? '┼';
    }
    const width = Math.max(1, ...texts.map((t) => [...t].length));
    for (let w = 0; w < n; w++) {
      const t = texts[w];
      const len = [...t].length;
      const left = Math.floor((width - len) / 2);
      rows[w] += '─' + '─'.repeat(left) + t + '─'.repeat(width - len - left) + '─';
    }
  }
  return rows.map((r) => r + '─').join('\n');
}

function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

export interface SvgOptions {
  /** Title for accessibility and hover text. */
  title?: string;
}

/** Standalone SVG drawing (no external styles or fonts), deterministic for a given circuit. */
export function drawSvg(circuit: Circuit, options: SvgOptions = {}): string {
  const n = circuit.qubits;
  const rowH = 40;
  const top = 20;
  const left = 50;
  const charW = 7.5;
  const { columns } = layout(circuit);
  const widths = columns.map((col) => {
    let w = 30;
    for (const item of col)
      for (const cell of item.cells.values())
        if (cell.kind === 'box') w = Math.max(w, 16 + [...cell.label].length * charW);
    return Math.ceil(w);
  });
  const gap = 14;
  const totalW = left + widths.reduce((s, w) => s + w + gap, 0) + 20;
  const totalH = top * 2 + rowH * (n - 1) + 20;
  const y = (w: number): number => top + 10 + w * rowH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="monospace" font-size="12">`,
  );
  if (options.title) out.push(`<title>${escapeXml(options.title)}</title>`);
  for (let w = 0; w < n; w++) {
    out.push(`<text x="8" y="${y(w) + 4}" fill="#333">${escapeXml(`q${w}`)}</text>`);
    out.push(
      `<line x1="${left - 10}" y1="${y(w)}" x2="${totalW - 10}" y2="${y(w)}" stroke="#555" stroke-width="1"/>`,
    );
  }
  let x0 = left;
  columns.forEach((col, ci) => {
    const cx = x0 + widths[ci] / 2;
    for (const item of col) {
      if (item.hi > item.lo)
        out.push(
          `<line x1="${cx}" y1="${y(item.lo)}" x2="${cx}" y2="${y(item.hi)}" stroke="#222" stroke-width="1.5"/>`,
        );
      for (const [w, cell] of [...item.cells].sort((a, b) => a[0] - b[0])) {
        const cy = y(w);
        if (cell.kind === 'control') out.push(`<circle cx="${cx}" cy="${cy}" r="4.5" fill="#222"/>`);
        else if (cell.kind === 'target')
          out.push(
            `<circle cx="${cx}" cy="${cy}" r="9" fill="#fff" stroke="#222" stroke-width="1.5"/>`,
            `<line x1="${cx - 9}" y1="${cy}" x2="${cx + 9}" y2="${cy}" stroke="#222" stroke-width="1.5"/>`,
            `<line x1="${cx}" y1="${cy - 9}" x2="${cx}" y2="${cy + 9}" stroke="#222" stroke-width="1.5"/>`,
          );
        else if (cell.kind === 'swap')
          out.push(
            `<path d="M${cx - 6} ${cy - 6}L${cx + 6} ${cy + 6}M${cx - 6} ${cy + 6}L${cx + 6} ${cy - 6}" stroke="#222" stroke-width="1.5"/>`,
          );
        else {
          const bw = widths[ci];
          out.push(
            `<rect x="${x0}" y="${cy - 12}" width="${bw}" height="24" rx="3" fill="#eef3fb" stroke="#2b4c7e" stroke-width="1.2"/>`,
            `<text x="${cx}" y="${cy + 4}" text-anchor="middle" fill="#111">${escapeXml(cell.label)}</text>`,
          );
        }
      }
    }
    x0 += widths[ci] + gap;
  });
  out.push('</svg>');
  return out.join('\n');
}
