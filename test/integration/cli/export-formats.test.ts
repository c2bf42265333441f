// `qlab export` in the formats for papers and analysis: runs-csv, latex (compiled with pdflatex) and pdf
// (headless Chromium; read back with pdftotext and rendered with pdftoppm), on qdllm-shaped runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../core/api/lab-api';
import { chromiumPrinter, findChromium, pdfHeader } from '../../../core/lab/export-pdf';
import { QDLLM_COLUMNS } from './export-kinds';

const BIN = fileURLToPath(new URL('../../../bin/qlab.js', import.meta.url));
const KINDS = fileURLToPath(new URL('./export-kinds.ts', import.meta.url));
const env = { ...process.env, QLAB_EXTRA_KINDS: KINDS, QLAB_HOME: '' };

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const PDFLATEX = has('pdflatex');
const POPPLER = has('pdftotext') && has('pdftoppm');
const CHROMIUM = findChromium() !== null;

let dir: string;
let labDir: string;
const runs: RunDetail[] = [];

function qlab(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tool(cmd: string, args: string[], cwd = dir): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-export-'));
  labDir = join(dir, 'lab');
  for (const [i, qubits] of [9, 11].entries()) {
    const cfg = join(dir, `run${i}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        kind: 'test-qdllm-report',
        name: `qdllm ${qubits}q`,
        seed: i + 1,
        config: { qubits },
      }),
    );
    const r = qlab('run', cfg, '--lab-dir', labDir, '--json');
    expect(r.code, r.stderr).toBe(0);
    runs.push(JSON.parse(r.stdout) as RunDetail);
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qlab export for analysis and papers', () => {
  it('runs-csv: one row per run with its config fields flattened and its final figures', () => {
    const r = qlab('export', ...runs.map((x) => x.id), '--format', 'runs-csv', '--lab-dir', labDir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + runs.length);
    const head = lines[0].split(',');
    expect(head.slice(0, 4)).toEqual(['id', 'kind', 'name', 'status']);
    for (const c of [
      'seed',
      'config.qubits',
      'config.dataset',
      'config.teacher.source',
      'config.teacher.epochs',
    ])
      expect(head).toContain(c);
    expect(head).toContain('summary.quantum_test_acc');
    expect(head).toContain('metric.quantum/loss');
    runs.forEach((run, i) => {
      const row = lines[i + 1].split(',');
      const at = (c: string) => row[head.indexOf(c)];
      expect(at('id')).toBe(run.id);
      expect(at('config.qubits')).toBe(String((run.config as { qubits: number }).qubits));
      expect(at('config.teacher.source')).toBe('lab-transformer');
      expect(at('summary.quantum_test_acc')).toBe(String(run.summary.quantum_test_acc));
      expect(at('metric.quantum/loss')).toBe('0.25');
      expect(at('seed')).toBe(String(run.seed));
    });
  });

  it.skipIf(!PDFLATEX)(
    'latex: compiles with pdflatex and its numbers are the stored summaries',
    () => {
      const tex = join(dir, 'report.tex');
      const r = qlab(
        'export',
        ...runs.map((x) => x.id),
        '--format',
        'latex',
        '--out',
        tex,
        '--lab-dir',
        labDir,
      );
      expect(r.code, r.stderr).toBe(0);
      const src = readFileSync(tex, 'utf8');
      expect(src).toContain('\\toprule');
      // The best accuracy (the transformer student's) in bold, mean ± std in math mode.
      expect(src).toContain('{\\boldmath$0.8906 \\pm 0.0188$}');
      expect(src).toContain('$0.8125 \\pm 0.0125$');
      tool('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'report.tex']);
      expect(existsSync(join(dir, 'report.pdf'))).toBe(true);
      const text = tool('pdftotext', ['-layout', 'report.pdf', '-']);
      for (const run of runs) {
        expect(text).toContain(run.id);
        for (const [k, v] of Object.entries(run.summary)) {
          const shown =
            typeof v === 'number' && Number.isInteger(v) && v >= 10000
              ? v.toLocaleString('en-US')
              : String(v);
          expect(text, k).toMatch(new RegExp(`${k}\\s+${shown.replace(/[.]/g, '\\.')}\\b`));
        }
      }
      // The results table's cells are the summaries rounded to its 4 digits.
      const s = runs[0].summary;
      for (const m of ['quantum', 'mlp', 'transformer']) {
        const acc = `${Number(s[`${m}_test_acc`]).toFixed(4)} ± ${Number(s[`${m}_test_acc_std`]).toFixed(4)}`;
        expect(text).toContain(acc);
      }
    },
    120_000,
  );

  it.skipIf(!CHROMIUM || !POPPLER)(
    'pdf: every column header of the wide results table is on the page, and the pages render',
    () => {
      const pdf = join(dir, 'report.pdf');
      const r = qlab(
        'export',
        ...runs.map((x) => x.id),
        '--format',
        'pdf',
        '--out',
        pdf,
        '--lab-dir',
        labDir,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
      const text = tool('pdftotext', ['-raw', pdf, '-']).replace(/\s+/g, ' ');
      // A header wraps inside its cell at spaces: compare with whitespace folded.
      for (const c of QDLLM_COLUMNS) expect(text, c).toContain(c);
      // Every page names the runs and the code version.
      const pages = tool('pdftotext', ['-raw', pdf, '-'])
        .split('\f')
        .filter((p) => p.trim());
      for (const page of pages) {
        for (const run of runs) expect(page).toContain(run.id);
        expect(page).toContain(runs[0].codeVersion);
      }
      expect(pages.length).toBeGreaterThan(0);
      // No word lies past the page's right edge (a cut column would).
      const bbox = tool('pdftotext', ['-bbox', pdf, '-']);
      const width = Number(/<page width="([\d.]+)"/.exec(bbox)![1]);
      const xs = [...bbox.matchAll(/xMax="([\d.]+)"/g)].map((m) => Number(m[1]));
      expect(Math.max(...xs)).toBeLessThanOrEqual(width);
      tool('pdftoppm', ['-r', '50', '-png', pdf, join(dir, 'page')]);
      expect(readdirSync(dir).filter((f) => /^page-\d+\.png$/.test(f)).length).toBeGreaterThan(0);
    },
    120_000,
  );

  it.skipIf(!CHROMIUM)(
    'html: self-contained, Chromium with the network cut off asks for nothing',
    async () => {
      const r = qlab('export', ...runs.map((x) => x.id), '--format', 'html', '--lab-dir', labDir);
      expect(r.code, r.stderr).toBe(0);
      const blocked: string[] = [];
      const pdf = await chromiumPrinter(findChromium(), (url) => blocked.push(url)).print(
        r.stdout,
        pdfHeader(runs),
      );
      expect(blocked).toEqual([]);
      expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-');
    },
    60_000,
  );

  it('refuses a PDF to stdout', () => {
    const r = qlab('export', runs[0].id, '--format', 'pdf', '--lab-dir', labDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --out FILE/);
  });
});
