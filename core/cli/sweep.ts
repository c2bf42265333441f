// `qlab sweep <config.json> --vary field=v1,v2,… [--vary seed=1..10]`: a lab-level sweep of a run file's kind
// and config (LabApi.createSweep), one child run per point of the grid. The file may hold the axes itself
// (`"axes": [{"field": "lr", "values": [0.1, 0.01]}]`, the wizard's "Save sweep as file"); a --vary of the
// same field replaces the file's axis in its place, others are added after the file's. Thin over the service: it builds the
// request, waits for the parent, and prints each point as it ends and the parent's result table.
import type { RunSummary } from '../api/lab-api';
import { parseAxisValues, type CreateSweepRequest, type SweepAxis } from '../api/sweep';
import { intOption, parseArgs, type CommandSpec } from './args';
import { applyOverrides, readSweepFile } from './config-file';
import { type CliContext, resolveLabDir } from './context';
import { CliError, EXIT } from './errors';
import { table } from './format';
import { resolve } from 'node:path';

export const SWEEP_SPEC = {
  name: 'sweep',
  options: {
    'lab-dir': { type: 'string' },
    vary: { type: 'list' },
    name: { type: 'string' },
    tag: { type: 'list' },
    concurrency: { type: 'string', short: 'j' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  },
  positionals: { min: 1, max: 1, label: 'one config file (qlab sweep <config.json> --vary field=v1,v2,…)' },
} satisfies CommandSpec;

/** `field=v1,v2,…` or `field=lo..hi` as an axis; one line naming the option on anything else. */
export function parseVary(text: string): SweepAxis {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`--vary ${text}: expected field=v1,v2,… or field=lo..hi`);
  const field = text.slice(0, eq).trim();
  try {
    return { field, values: parseAxisValues(text.slice(eq + 1)) as SweepAxis['values'] };
  } catch (err) {
    throw new CliError(`--vary ${field}: ${(err as Error).message}`);
  }
}

export async function sweepCommand(argv: string[], ctx: CliContext): Promise<number> {
  const a = parseArgs(SWEEP_SPEC, argv);
  const vary = (a.lists.vary ?? []).map(parseVary);
  const file = resolve(ctx.cwd, a.positionals[0]);
  // Everything about the file and the axes is checked before the lab is opened.
  const read = readSweepFile(file);
  const axes = [
    ...read.axes.map((x) => vary.find((v) => v.field === x.field) ?? x),
    ...vary.filter((v) => !read.axes.some((x) => x.field === v.field)),
  ];
  if (axes.length === 0)
    throw new CliError(
      `'qlab sweep' needs at least one --vary field=v1,v2,… (or "axes" in ${a.positionals[0]})`,
    );
  const run = applyOverrides(read.run, a.strings.name, a.lists.tag ?? []);
  if (run.retries !== undefined) throw new CliError(`${file}: "retries" is not taken by a sweep`);
  const req: CreateSweepRequest = { ...run, axes } as CreateSweepRequest;
  const concurrency = intOption(a, 'concurrency', 1, 1, 256);
  const labDir = resolveLabDir(a.strings['lab-dir'], ctx);
  // Only this sweep's runs here; with QLAB_STORE/QLAB_QUEUE set, its points go to the shared queue's workers.
  const lab = await ctx.openLab(labDir, { schedule: true, adoptQueued: false, concurrency });
  let parentId: string | null = null;
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (parentId === null || interrupts > 1) process.exit(130);
    ctx.stderr.write(`\nqlab: cancelling sweep ${parentId.slice(0, 8)} (Ctrl-C again to quit at once)\n`);
    void lab.cancelRun(parentId).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    const parent = await lab.createSweep(req, { localFiles: true });
    parentId = parent.id;
    const quiet = a.booleans.quiet || a.booleans.json;
    if (!quiet)
      ctx.stderr.write(`sweep ${parent.id} (${parent.kind}, ${parent.childCount} points, ${parent.name})\n`);
    let ended = 0;
    const seen = new Set<string>();
    const unsubscribe = lab.onEvent((ev) => {
      if (quiet || ev.type !== 'run-updated') return;
      const r: RunSummary = ev.run;
      if (r.parentId !== parent.id || seen.has(r.id)) return;
      if (!['succeeded', 'failed', 'cancelled', 'interrupted'].includes(r.status)) return;
      seen.add(r.id);
      ended++;
      ctx.stderr.write(
        `[${ended}/${parent.childCount}] ${r.name.slice(parent.name.length).trim()}: ${r.status}${r.error ? ` (${r.error.slice(0, 120)})` : ''}\n`,
      );
    });
    const final = await lab.waitForRun(parent.id);
    unsubscribe();
    const d = await lab.getRun(parent.id);
    if (a.booleans.json) ctx.stdout.write(JSON.stringify(d, null, 2) + '\n');
    else {
      let out = `sweep ${d.id}\n${d.kind}  "${d.name}"  ${d.status}\n`;
      if (d.error) out += `error: ${d.error}\n`;
      for (const s of d.report) {
        out += `\n${s.title}\n`;
        out +=
          s.type === 'table'
            ? table(
                s.columns.map((c) => c.toUpperCase()),
                s.rows,
              )
            : `${s.text}\n`;
      }
      ctx.stdout.write(out);
    }
    if (final.status !== 'succeeded') {
      ctx.stderr.write(`qlab: sweep ${d.id} ${d.status}${d.error ? `: ${d.error}` : ''}\n`);
      return EXIT.runFailed;
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSigint);
    await lab.close();
  }
}
