// The `qlab` commands other than serve, sim and bench. Each takes its argv and a context and returns
// an exit code; errors are thrown as CliError/LabError and printed as one line by main.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EXPORT_FORMATS,
  MAX_COMPARE_RUNS,
  RUN_STATUSES,
  RunIdSchema,
  type Comparison,
  type ExportFormat,
  type ListRunsRequest,
  type RunDetail,
  type RunStatus,
  type RunSummary,
} from '../api/lab-api';
import { parseArgs, type CommandSpec } from './args';
import { applyOverrides, readRunFile } from './config-file';
import { type CliContext, type CliLab, resolveLabDir } from './context';
import { CliError, EXIT } from './errors';
import { chromiumPrinter, pdfHeader } from '../lab/export-pdf';
import {
  cell,
  formatDuration,
  formatTime,
  progressBar,
  runDuration,
  runsTable,
  shortId,
  table,
} from './format';

const TERMINAL: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];
export const isTerminal = (s: RunStatus): boolean => TERMINAL.includes(s);

const labDirOpt = { 'lab-dir': { type: 'string' } } as const;

export const SPECS = {
  run: {
    name: 'run',
    options: {
      ...labDirOpt,
      name: { type: 'string' },
      tag: { type: 'list' },
      detach: { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      // Internal: set on the background process that `--detach` starts.
      'detached-child': { type: 'boolean' },
    },
    positionals: { min: 1, max: 1, label: 'one config file (qlab run <config.json>)' },
  },
  runs: {
    name: 'runs',
    options: {
      ...labDirOpt,
      kind: { type: 'string' },
      status: { type: 'string' },
      tag: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      /** Each top-level run followed by its children. */
      all: { type: 'boolean' },
      /** Only this run's children. */
      parent: { type: 'string' },
    },
    positionals: { min: 0, max: 0, label: '' },
  },
  show: {
    name: 'show',
    options: { ...labDirOpt, json: { type: 'boolean' } },
    positionals: { min: 1, max: 1, label: 'one run id (qlab show <id>)' },
  },
  compare: {
    name: 'compare',
    options: { ...labDirOpt, json: { type: 'boolean' } },
    positionals: {
      min: 2,
      max: MAX_COMPARE_RUNS,
      label: `two to ${MAX_COMPARE_RUNS.toLocaleString('en-US')} run ids (qlab compare <id> <id> …)`,
    },
  },
  export: {
    name: 'export',
    options: {
      ...labDirOpt,
      format: { type: 'string', short: 'f' },
      out: { type: 'string', short: 'o' },
      /** Each run followed by its child runs (a sweep and its points in one file). */
      children: { type: 'boolean' },
    },
    positionals: {
      min: 1,
      max: 100,
      label: 'at least one run id (qlab export <id…> --format json|csv|runs-csv|latex|html|pdf)',
    },
  },
  cancel: {
    name: 'cancel',
    options: { ...labDirOpt, wait: { type: 'string' } },
    positionals: { min: 1, max: 1, label: 'one run id (qlab cancel <id>)' },
  },
} satisfies Record<string, CommandSpec>;

/** Commands that only read (or cancel) open the lab without its scheduler, so they never start queued runs. */
async function withLab<T>(
  ctx: CliContext,
  labDirFlag: string | undefined,
  fn: (lab: CliLab) => Promise<T>,
): Promise<T> {
  const lab = await ctx.openLab(resolveLabDir(labDirFlag, ctx), { schedule: false });
  try {
    return await fn(lab);
  } finally {
    await lab.close();
  }
}

/** A full id, or a unique prefix of one (at least 4 hex characters). */
export async function resolveRunId(lab: CliLab, text: string): Promise<string> {
  const t = text.toLowerCase();
  if (RunIdSchema.safeParse(t).success) return t;
  if (!/^[0-9a-f-]{4,36}$/.test(t))
    throw new CliError(`'${text}' is not a run id or an id prefix of 4+ characters`);
  // Children too: a sweep's point is addressed by its own id like any run.
  const hits = (await lab.listRuns({ limit: 10_000, includeChildren: true })).filter((r) =>
    r.id.startsWith(t),
  );
  if (hits.length === 0) throw new CliError(`no run matches '${text}'`);
  if (hits.length > 1) {
    const some = hits.slice(0, 4).map((r) => shortId(r.id));
    throw new CliError(`'${text}' is ambiguous: it matches ${hits.length} runs (${some.join(', ')}…)`);
  }
  return hits[0].id;
}

function json(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

// ---------------------------------------------------------------- run

function binPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'qlab.js');
}

export async function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPECS.run, argv);
  const file = resolve(ctx.cwd, a.positionals[0]);
  // Everything about the file is checked before the lab is opened: a bad config writes nothing.
  const req = applyOverrides(readRunFile(file), a.strings.name, a.lists.tag ?? []);
  const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
  if (a.booleans.detach) return detach(file, labDir, a.strings.name, a.lists.tag ?? [], ctx);

  // Only this command's run: runs queued by another live lab process (a `qlab serve`) stay with it.
  const lab = await ctx.openLab(labDir, { schedule: true, adoptQueued: false });
  let runId: string | null = null;
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (runId === null || interrupts > 1) process.exit(130);
    ctx.stderr.write(`\nqlab: cancelling run ${shortId(runId)} (Ctrl-C again to quit at once)\n`);
    void lab.cancelRun(runId).catch(() => undefined);
  };
  // SIGTERM (a shutdown, or someone ending a detached run's process): close the lab so the job process is
  // stopped and the run is recorded as interrupted rather than left running.
  const onSigterm = (): void => {
    ctx.stderr.write('qlab: terminated; stopping the run\n');
    void lab.close().finally(() => process.exit(143));
  };
  const interactive = !a.booleans['detached-child'];
  if (interactive) process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    // A local user naming their own files: the file-root rule guards the HTTP and IPC transports only.
    const created = await lab.createRun(req, { localFiles: true });
    runId = created.id;
    if (a.booleans['detached-child'] && process.send) {
      process.send({ runId });
      process.disconnect();
    }
    const progress = a.booleans.quiet || a.booleans.json ? null : new ProgressView(ctx, created);
    const unsubscribe = lab.onEvent((ev) => {
      if (ev.type === 'run-updated' && ev.run.id === runId) progress?.update(ev.run);
    });
    const final = await lab.waitForRun(runId);
    unsubscribe();
    progress?.finish(final);
    const detail = await lab.getRun(runId);
    if (a.booleans.json) json(ctx, detail);
    else ctx.stdout.write(describeFinishedRun(detail));
    if (detail.status !== 'succeeded') {
      ctx.stderr.write(`qlab: run ${detail.id} ${detail.status}${detail.error ? `: ${detail.error}` : ''}\n`);
      return EXIT.runFailed;
    }
    return EXIT.ok;
  } finally {
    if (interactive) process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    await lab.close();
  }
}

/** A bar on a terminal; otherwise a line at every tenth and on message changes at most once a second. */
class ProgressView {
  private lastDecile = -1;
  private lastMessage: string | null = null;
  private lastLineAt = 0;
  private lastStatus: RunStatus;
  constructor(
    private readonly ctx: CliContext,
    run: RunSummary,
  ) {
    this.lastStatus = run.status;
    ctx.stderr.write(`run ${run.id} ${run.status} (${run.kind}${run.name ? `, ${run.name}` : ''})\n`);
  }
  update(run: RunSummary): void {
    const tty = this.ctx.stderr.isTTY === true;
    if (run.status !== this.lastStatus && !tty) this.ctx.stderr.write(`status ${run.status}\n`);
    this.lastStatus = run.status;
    if (tty) {
      const msg = run.progressMessage ? `  ${run.progressMessage}` : '';
      const line = `${progressBar(run.progress)}  ${run.status}${msg}`;
      const cols = (this.ctx.stderr as { columns?: number }).columns ?? 100;
      this.ctx.stderr.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
      return;
    }
    const decile = Math.floor(run.progress * 10);
    const now = Date.now();
    const messageChanged = run.progressMessage !== this.lastMessage && now - this.lastLineAt >= 1000;
    if (decile > this.lastDecile || messageChanged) {
      this.lastDecile = Math.max(decile, this.lastDecile);
      this.lastMessage = run.progressMessage;
      this.lastLineAt = now;
      const msg = run.progressMessage ? ` ${run.progressMessage}` : '';
      this.ctx.stderr.write(`progress ${Math.floor(run.progress * 100)}%${msg}\n`);
    }
  }
  finish(run: RunSummary): void {
    if (this.ctx.stderr.isTTY === true)
      this.ctx.stderr.write(`\r\x1b[2K${progressBar(run.progress)}  ${run.status}\n`);
  }
}

export function describeFinishedRun(d: RunDetail): string {
  const dur = runDuration(d);
  let out = `run ${d.id}\n`;
  out += `${d.kind}  ${d.name ? `"${d.name}"  ` : ''}${d.status}${dur === null ? '' : ` in ${formatDuration(dur)}`}\n`;
  if (d.error) out += `error: ${d.error}\n`;
  const summary = Object.entries(d.summary);
  if (summary.length > 0) out += '\n' + table(['SUMMARY', 'VALUE'], summary);
  if (d.metrics.length > 0) {
    out +=
      '\n' +
      table(
        ['METRIC', 'POINTS', 'LAST', 'MIN', 'MAX'],
        d.metrics.map((m) => [m.key, m.count, m.last, m.min, m.max]),
      );
  }
  return out + childrenTable(d);
}

/** Starts the same run in a background process and returns once that process has created the run. */
async function detach(
  file: string,
  labDir: string,
  name: string | undefined,
  tags: string[],
  ctx: CliContext,
): Promise<number> {
  const logDir = join(labDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(
    logDir,
    `detached-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`,
  );
  const args = [binPath(), 'run', file, '--lab-dir', labDir, '--detached-child'];
  if (name !== undefined) args.push('--name', name);
  for (const t of tags) args.push('--tag', t);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, args, {
    cwd: ctx.cwd,
    env: { ...process.env, ...ctx.env },
    stdio: ['ignore', fd, fd, 'ipc'],
    detached: true,
  });
  closeSync(fd);
  const runId = await new Promise<string>((ok, fail) => {
    child.once('message', (m: unknown) => {
      const id = (m as { runId?: unknown }).runId;
      if (typeof id === 'string') ok(id);
      else fail(new CliError(`the background process sent an unexpected message; see ${logPath}`, EXIT.lab));
    });
    child.once('exit', (code) => {
      fail(
        new CliError(`the background run stopped before starting (exit ${code}); see ${logPath}`, EXIT.lab),
      );
    });
    child.once('error', (e) => fail(new CliError(`cannot start the background run: ${e.message}`, EXIT.lab)));
  });
  child.unref();
  child.channel?.unref();
  ctx.stdout.write(`${runId}\n`);
  ctx.stderr.write(
    `run ${shortId(runId)} started in the background (pid ${child.pid}); log: ${logPath}\n` +
      `follow it with 'qlab show ${shortId(runId)}', stop it with 'qlab cancel ${shortId(runId)}'\n`,
  );
  return EXIT.ok;
}

// ---------------------------------------------------------------- runs, show

export async function runsCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPECS.runs, argv);
  const req: ListRunsRequest = {};
  if (a.strings.kind !== undefined) req.kind = a.strings.kind;
  if (a.strings.tag !== undefined) req.tag = a.strings.tag;
  if (a.strings.status !== undefined) {
    const s = a.strings.status;
    if (!(RUN_STATUSES as readonly string[]).includes(s)) {
      throw new CliError(`option --status must be one of ${RUN_STATUSES.join(', ')}; got '${s}'`);
    }
    req.status = s as RunStatus;
  }
  if (a.strings.limit !== undefined) {
    const n = Number(a.strings.limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw new CliError('option --limit must be an integer in 1..10000');
    req.limit = n;
  }
  if (a.booleans.all && a.strings.parent !== undefined)
    throw new CliError('give either --all or --parent, not both');
  return withLab(ctx, a.strings['lab-dir'], async (lab) => {
    if (a.strings.parent !== undefined) req.parentId = await resolveRunId(lab, a.strings.parent);
    const runs = await lab.listRuns(req);
    // --all: each parent followed by its children (filters apply to the top-level runs).
    const rows: RunSummary[] = [];
    for (const r of runs) {
      rows.push(r);
      if (a.booleans.all && r.childCount > 0)
        rows.push(...(await lab.listRuns({ parentId: r.id, limit: 10_000 })));
    }
    if (a.booleans.json) json(ctx, rows);
    else if (rows.length === 0) ctx.stderr.write(req.parentId ? 'no child runs\n' : 'no runs\n');
    else ctx.stdout.write(runsTable(rows));
    return EXIT.ok;
  });
}

export async function showCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPECS.show, argv);
  return withLab(ctx, a.strings['lab-dir'], async (lab) => {
    const d = await lab.getRun(await resolveRunId(lab, a.positionals[0]));
    if (a.booleans.json) json(ctx, d);
    else ctx.stdout.write(describeRun(d));
    return EXIT.ok;
  });
}

export function describeRun(d: RunDetail): string {
  const dur = runDuration(d);
  const fields: [string, string][] = [
    ['id', d.id],
    ['kind', d.kind],
    ['name', d.name || '-'],
    ...(d.parentId ? ([['parent', d.parentId]] as [string, string][]) : []),
    ['status', d.status + (d.status === 'running' ? ` (${Math.floor(d.progress * 100)}%)` : '')],
    ['created', formatTime(d.createdAt)],
    ['started', formatTime(d.startedAt)],
    ['finished', formatTime(d.finishedAt)],
    ['duration', dur === null ? '-' : formatDuration(dur)],
    ['seed', String(d.seed)],
    ['tags', d.tags.join(', ') || '-'],
    ['code', d.codeVersion || '-'],
  ];
  if (d.progressMessage) fields.push(['progress', d.progressMessage]);
  if (d.error) fields.push(['error', d.error]);
  let out = fields.map(([k, v]) => `${k.padEnd(9)} ${v}`).join('\n') + '\n';
  out += '\nconfig\n' + indent(JSON.stringify(d.config, null, 2)) + '\n';
  const summary = Object.entries(d.summary);
  if (summary.length > 0) out += '\n' + table(['SUMMARY', 'VALUE'], summary);
  if (d.metrics.length > 0) {
    out +=
      '\n' +
      table(
        ['METRIC', 'POINTS', 'LAST STEP', 'LAST', 'MIN', 'MAX'],
        d.metrics.map((m) => [m.key, m.count, m.lastStep, m.last, m.min, m.max]),
      );
  }
  if (d.artifacts.length > 0) {
    out +=
      '\n' +
      table(
        ['ARTIFACT', 'KIND', 'BYTES', 'SHA256', 'FILE'],
        d.artifacts.map((x) => [
          x.name,
          x.kind,
          x.bytes,
          x.sha256.slice(0, 16),
          x.missing ? 'MISSING' : 'ok',
        ]),
      );
  }
  for (const s of d.report) {
    out += `\n${s.title}\n`;
    out += s.type === 'table' ? indent(table(s.columns, s.rows).trimEnd()) + '\n' : indent(s.text) + '\n';
  }
  for (const n of d.notes) out += `\nnote (${formatTime(n.createdAt)})\n${indent(n.text)}\n`;
  return out + childrenTable(d);
}

/** A parent's children, one line each with every summary figure; empty for a run without children. */
function childrenTable(d: RunDetail): string {
  if (d.children.length === 0) return '';
  const keys = [...new Set(d.children.flatMap((c) => Object.keys(c.summary)))];
  return (
    `\nchildren (${d.children.length})\n` +
    indent(
      table(
        ['ID', 'NAME', 'STATUS', ...keys.map((k) => k.toUpperCase())],
        d.children.map((c) => [shortId(c.id), c.name, c.status, ...keys.map((k) => c.summary[k])]),
      ).trimEnd(),
    ) +
    '\n'
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

// ---------------------------------------------------------------- compare, export, cancel

export async function compareCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPECS.compare, argv);
  return withLab(ctx, a.strings['lab-dir'], async (lab) => {
    const ids: string[] = [];
    for (const p of a.positionals) ids.push(await resolveRunId(lab, p));
    if (new Set(ids).size !== ids.length)
      throw new CliError('compare needs distinct runs; an id was given twice');
    const c = await lab.compareRuns({ ids });
    if (a.booleans.json) {
      json(ctx, c);
      return EXIT.ok;
    }
    // Past a few runs, columns per run stop fitting a terminal: one row per run instead (config fields that
    // differ and the shared summary figures as columns; metrics only in --json).
    if (c.runs.length > COMPARE_COLUMNS_MAX) {
      ctx.stdout.write(
        table(
          [
            'ID',
            'KIND',
            'NAME',
            'STATUS',
            'SEED',
            ...c.configDiff.map((d) => d.path),
            ...c.summary.map((s) => s.key),
          ],
          c.runs.map((r, i) => [
            shortId(r.id),
            r.kind,
            r.name || '-',
            r.status,
            String(r.seed),
            ...c.configDiff.map((d) => JSON.stringify(d.values[i])),
            ...c.summary.map((s) => cell(s.values[i])),
          ]),
        ) + unsharedText(c),
      );
      return EXIT.ok;
    }
    const heads = c.runs.map((r) => shortId(r.id));
    let out = table(
      ['', ...heads],
      [
        ['kind', ...c.runs.map((r) => r.kind)],
        ['name', ...c.runs.map((r) => r.name || '-')],
        ['status', ...c.runs.map((r) => r.status)],
        ['seed', ...c.runs.map((r) => String(r.seed))],
      ],
    );
    out +=
      '\n' +
      (c.configDiff.length === 0
        ? 'configs are identical\n'
        : table(
            ['CONFIG', ...heads],
            c.configDiff.map((d) => [
              d.path,
              ...d.values.map((v) => (v === undefined ? '-' : JSON.stringify(v))),
            ]),
          ));
    if (c.metrics.length > 0) {
      out +=
        '\n' +
        table(
          ['METRIC', ...heads],
          c.metrics.map((m) => [m.key, ...m.values]),
        );
    }
    if (c.summary.length > 0) {
      out +=
        '\n' +
        table(
          ['SUMMARY', ...heads],
          c.summary.map((s) => [s.key, ...s.values.map(cell)]),
        );
    }
    ctx.stdout.write(out + unsharedText(c));
    return EXIT.ok;
  });
}

/** Runs `qlab compare` prints as columns; more are printed one row each. */
const COMPARE_COLUMNS_MAX = 8;

/** What only some compared runs have: once per kind, not as empty cells. */
function unsharedText(c: Comparison): string {
  let out = '';
  for (const u of c.unshared) {
    const list = (items: { name: string; runs: number }[]) =>
      items.map((x) => (x.runs === u.runs ? x.name : `${x.name} (${x.runs} of ${u.runs})`)).join(', ');
    out += `\nonly in ${u.kind} (${u.runs} run${u.runs === 1 ? '' : 's'}):\n`;
    if (u.config.length > 0)
      out += `  config: ${list(u.config.map((x) => ({ name: x.path, runs: x.runs })))}\n`;
    if (u.summary.length > 0)
      out += `  summary: ${list(u.summary.map((x) => ({ name: x.key, runs: x.runs })))}\n`;
    if (u.metrics.length > 0)
      out += `  metrics: ${list(u.metrics.map((x) => ({ name: x.key, runs: x.runs })))}\n`;
  }
  return out;
}

/** The CLI's formats: the LabApi's text formats, and `pdf` (the HTML report printed by headless Chromium). */
const CLI_EXPORT_FORMATS = [...EXPORT_FORMATS, 'pdf'] as const;

export async function exportCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPECS.export, argv);
  const format = a.strings.format;
  if (format === undefined)
    throw new CliError(`'qlab export' needs --format ${CLI_EXPORT_FORMATS.join('|')}`);
  if (!(CLI_EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new CliError(`option --format must be one of ${CLI_EXPORT_FORMATS.join(', ')}; got '${format}'`);
  }
  const pdf = format === 'pdf';
  const out = a.strings.out;
  if (pdf && (out === undefined || out === '-'))
    throw new CliError(`'qlab export --format pdf' needs --out FILE (a PDF is not written to a terminal)`);
  return withLab(ctx, a.strings['lab-dir'], async (lab) => {
    const ids: string[] = [];
    for (const p of a.positionals) {
      const id = await resolveRunId(lab, p);
      ids.push(id);
      if (a.booleans.children) ids.push(...(await lab.getRun(id)).children.map((c) => c.id));
    }
    const unique = [...new Set(ids)];
    if (unique.length > 100)
      throw new CliError(`an export takes at most 100 runs; these ids (with children) name ${unique.length}`);
    const file = await lab.exportRuns({ ids: unique, format: pdf ? 'html' : (format as ExportFormat) });
    let content: string | Uint8Array = file.content;
    let mimeType = file.mimeType;
    if (pdf) {
      const runs = await Promise.all(unique.map((id) => lab.getRun(id)));
      try {
        content = await chromiumPrinter().print(file.content, pdfHeader(runs));
      } catch (e) {
        throw new CliError(`cannot print the PDF: ${(e as Error).message}`, EXIT.lab);
      }
      mimeType = 'application/pdf';
    }
    if (out === undefined || out === '-') {
      ctx.stdout.write(file.content);
      return EXIT.ok;
    }
    const path = resolve(ctx.cwd, out);
    try {
      writeFileSync(path, content);
    } catch (e) {
      throw new CliError(`cannot write ${path}: ${(e as Error).message}`, EXIT.lab);
    }
    ctx.stderr.write(`wrote ${path} (${Buffer.byteLength(content)} bytes, ${mimeType})\n`);
    return EXIT.ok;
  });
}

export async function cancelCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SPECS.cancel, argv);
  const waitS = a.strings.wait === undefined ? 5 : Number(a.strings.wait);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 600)
    throw new CliError(`option --wait must be seconds in 0..600, got '${a.strings.wait}'`);
  return withLab(ctx, a.strings['lab-dir'], async (lab) => {
    const id = await resolveRunId(lab, a.positionals[0]);
    const before = await lab.getRun(id);
    if (isTerminal(before.status)) throw new CliError(`run ${shortId(id)} is already ${before.status}`);
    // A run started by another process is cancelled by that process: the service records the request in the
    // store and its owner polls for it. Wait here until the owner has stopped the job.
    let status = (await lab.cancelRun(id)).status;
    const deadline = Date.now() + waitS * 1000;
    while (!isTerminal(status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await lab.getRun(id)).status;
    }
    if (!isTerminal(status)) {
      throw new CliError(
        `run ${shortId(id)} is still ${status} after ${waitS} s; the cancel request stays recorded for the process that runs it`,
        EXIT.lab,
      );
    }
    ctx.stdout.write(`run ${id} ${status}\n`);
    return status === 'cancelled' ? EXIT.ok : EXIT.runFailed;
  });
}
