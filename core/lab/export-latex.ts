// LaTeX export: one compilable document with a booktabs table per report table of each run, and the run's
// numeric summary figures as printed (so a paper's numbers can be traced back to the store).
import type { ExportedFile, ReportSection, RunDetail } from '../api/lab-api';

/** Characters outside ASCII that a report uses, as LaTeX that compiles with the document's packages. */
const UNICODE: Record<string, string> = {
  '±': '$\\pm$',
  '–': '--',
  '—': '---',
  '−': '$-$',
  '·': '$\\cdot$',
  '×': '$\\times$',
  '…': '\\ldots{}',
  '≥': '$\\geq$',
  '≤': '$\\leq$',
  '≈': '$\\approx$',
  '→': '$\\rightarrow$',
  '²': '$^{2}$',
  '³': '$^{3}$',
  '½': '$\\frac{1}{2}$',
  α: '$\\alpha$',
  β: '$\\beta$',
  γ: '$\\gamma$',
  δ: '$\\delta$',
  ε: '$\\varepsilon$',
  θ: '$\\theta$',
  λ: '$\\lambda$',
  μ: '$\\mu$',
  σ: '$\\sigma$',
  τ: '$\\tau$',
  χ: '$\\chi$',
  ψ: '$\\psi$',
  ϕ: '$\\phi$',
  φ: '$\\phi$',
  '⟩': '$\\rangle$',
  '⟨': '$\\langle$',
  '‖': '$\\|$',
  '’': "'",
  '‘': '`',
  '“': '``',
  '”': "''",
  '\u00a0': '~',
};

const SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  $: '\\$',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  _: '\\_',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

/**
 * Text as LaTeX: the ten specials (and < > |) escaped, known symbols mapped, Latin-1 letters kept (T1 and
 * utf8 typeset them), anything else replaced by `?` so the document always compiles.
 */
export function escapeLatex(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch in SPECIAL) out += SPECIAL[ch];
    else if (ch in UNICODE) out += UNICODE[ch];
    else if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else {
      const c = ch.codePointAt(0)!;
      out += c < 0x7f || (c >= 0xc0 && c <= 0x17f) ? ch : '?';
    }
  }
  return out;
}

/** The number a cell leads with: a number cell, or the mean of a `mean ± std` string; null otherwise. */
export function leadingNumber(v: string | number | null): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m =
    /^\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*(?:±\s*[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)?\s*%?\s*$/i.exec(v);
  return m ? Number(m[1]) : null;
}

/**
 * Which way is better for a column, by its title: accuracy-like figures up, losses, times and memory down;
 * anything else (p-values, intervals, parameter counts, t, dof) gets no bold.
 */
export function betterDirection(title: string): 'max' | 'min' | null {
  const t = title.toLowerCase();
  // A ratio per resource (Acc/Param, Acc/T_kd): more of the figure per unit is better.
  if (/\w\/\w/.test(t)) return 'max';
  if (/\bp\b|p-value|interval|\bci\b|\bdof\b|^t$|param|seed|repetition|^step|\blr\b|epoch$/.test(t))
    return null;
  if (/loss|perplexity|\bppl\b|time|\(s\)|\(ms\)|seconds|latency|rss|heap|memory|mib|error|energy/.test(t))
    return 'min';
  if (/acc|f1|precision|recall|auc|score|bleu|agreement/.test(t)) return 'max';
  return null;
}

/** Digits of a number as stored (no rounding), large integers grouped for reading: 12{,}345. */
function latexNumber(v: number): string {
  const s = String(v);
  if (Number.isInteger(v) && Math.abs(v) >= 10000) return s.replace(/\B(?=(\d{3})+(?!\d))/g, '{,}');
  return s.replace(/e([-+]?\d+)$/, (_, e: string) => `\\times 10^{${Number(e)}}`);
}

/** One cell's LaTeX: numbers in math mode, `mean ± std` as `$m \pm s$`, null as an em dash. */
export function latexCell(v: string | number | null, bold: boolean): string {
  let body: string;
  if (v === null) return '---';
  if (typeof v === 'number') body = `$${latexNumber(v)}$`;
  else {
    const ms = /^\s*([-+]?\d+(?:\.\d+)?)\s*±\s*([-+]?\d+(?:\.\d+)?)\s*$/.exec(v);
    body = ms ? `$${ms[1]} \\pm ${ms[2]}$` : escapeLatex(v);
  }
  if (!bold) return body;
  // \boldmath makes the math in the cell bold too.
  return body.startsWith('$') ? `{\\boldmath${body}}` : `\\textbf{${body}}`;
}

/** For each column, the row indices holding its best value (ties all bold); empty where no direction applies. */
export function bestCells(columns: string[], rows: (string | number | null)[][]): Set<number>[] {
  return columns.map((title, j) => {
    const best = new Set<number>();
    if (j === 0) return best;
    const dir = betterDirection(title);
    if (dir === null) return best;
    const nums = rows.map((r) => leadingNumber(r[j] ?? null));
    const present = nums.filter((n): n is number => n !== null);
    if (present.length < 2) return best;
    const target = dir === 'max' ? Math.max(...present) : Math.min(...present);
    nums.forEach((n, i) => {
      if (n === target) best.add(i);
    });
    return best;
  });
}

/** Data columns per tabular at most: a wider table is split into parts, each repeating the first column. */
const MAX_COLUMNS = 12;

/**
 * A report table as booktabs tabulars: a table wider than MAX_COLUMNS data columns is split into parts of
 * about equal width (each with the row labels), so nothing is scaled to an unreadable size; a part still wider
 * than the text is scaled to its width.
 */
export function latexTable(s: Extract<ReportSection, { type: 'table' }>, label: string): string {
  const best = bestCells(s.columns, s.rows);
  const data = s.columns.map((_, j) => j).slice(1);
  const parts = Math.max(1, Math.ceil(data.length / MAX_COLUMNS));
  const per = Math.ceil(data.length / parts);
  const out = [
    '\\begin{table}[htbp]',
    '\\centering',
    '\\small',
    `\\caption{${escapeLatex(s.title)}}`,
    `\\label{${label}}`,
  ];
  for (let p = 0; p < parts; p++) {
    const cols = [0, ...data.slice(p * per, (p + 1) * per)];
    if (p > 0) out.push('\\par\\medskip');
    out.push(
      '\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%',
      `\\begin{tabular}{${cols.map((j) => (j === 0 ? 'l' : 'r')).join('')}}`,
      '\\toprule',
      `${cols.map((j) => `\\textbf{${escapeLatex(s.columns[j])}}`).join(' & ')} \\\\`,
      '\\midrule',
      ...s.rows.map(
        (row, i) => cols.map((j) => latexCell(row[j] ?? null, best[j].has(i))).join(' & ') + ' \\\\',
      ),
      '\\bottomrule',
      '\\end{tabular}}',
    );
  }
  out.push('\\end{table}');
  return out.join('\n');
}

/** The run's summary figures as a two-column longtable, numbers exactly as stored. */
function summaryTable(r: RunDetail): string {
  const entries = Object.entries(r.summary);
  if (entries.length === 0) return '';
  return [
    `\\begin{longtable}{lr}`,
    `\\caption{Summary figures (run ${escapeLatex(r.id.slice(0, 8))})}\\\\`,
    '\\toprule',
    '\\textbf{figure} & \\textbf{value} \\\\',
    '\\midrule',
    '\\endhead',
    ...entries.map(([k, v]) => `\\texttt{${escapeLatex(k)}} & ${latexCell(v, false)} \\\\`),
    '\\bottomrule',
    '\\end{longtable}',
  ].join('\n');
}

export function latexDocument(runs: RunDetail[]): string {
  const parts: string[] = [
    '% Exported from qlab. Tables need booktabs (and graphicx, longtable, lmodern); numbers are the stored values.',
    '% Bold: the best value per column (higher for accuracy-like figures, lower for losses, times, memory).',
    '\\documentclass[10pt]{article}',
    '\\usepackage[T1]{fontenc}',
    '\\usepackage{lmodern}',
    '\\usepackage[utf8]{inputenc}',
    '\\usepackage[a4paper,landscape,margin=1.5cm]{geometry}',
    '\\usepackage{booktabs}',
    '\\usepackage{graphicx}',
    '\\usepackage{longtable}',
    '\\begin{document}',
  ];
  runs.forEach((r, i) => {
    parts.push(
      `\\section*{${escapeLatex(r.name || r.id.slice(0, 8))}}`,
      `\\noindent Run \\texttt{${escapeLatex(r.id)}} (${escapeLatex(r.kind)}, ${escapeLatex(r.status)}, seed ${r.seed}), code \\texttt{${escapeLatex(r.codeVersion)}}.`,
      '',
    );
    let t = 0;
    for (const s of r.report) {
      if (s.type !== 'table') continue;
      t++;
      parts.push(latexTable(s, `tab:run${i + 1}-${t}`), '');
    }
    const sum = summaryTable(r);
    if (sum) parts.push(sum, '');
    parts.push('\\clearpage');
  });
  parts.push('\\end{document}', '');
  return parts.join('\n');
}

export function exportLatex(runs: RunDetail[], base: string): ExportedFile {
  return { filename: `${base}.tex`, mimeType: 'application/x-tex', content: latexDocument(runs) };
}
