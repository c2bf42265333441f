// `qlab bench sim [--json] [--quick] [--gpu] [--no-peer] [--no-shift] [--threads N] [--out FILE]`:
// the simulator benchmark suite, printed as a table (or one JSON object) and written as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatBenchTable, runSimBench, SIM_BENCH_LEGEND } from '../methods/sim-bench/run';
import { QUICK_SIM_BENCH, SimBenchConfigSchema } from '../methods/sim-bench/schema';

export async function main(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== 'sim') {
    process.stderr.write(`qlab: bench: unknown suite ${JSON.stringify(what ?? '')}; known: sim\n`);
    return 2;
  }
  let json = false;
  let out = 'bench/results/sim.json';
  const cfg: Record<string, unknown> = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json') json = true;
    else if (a === '--gpu') cfg.gpu = true;
    else if (a === '--no-peer') cfg.peer = false;
    else if (a === '--no-shift') cfg.parameterShift = false;
    else if (a === '--quick') Object.assign(cfg, QUICK_SIM_BENCH);
    else if (a === '--threads') cfg.threads = Number(rest[++i]);
    else if (a === '--out') out = rest[++i] ?? '';
    else {
      process.stderr.write(`qlab: bench sim: unknown option ${a}\n`);
      return 2;
    }
  }
  const parsed = SimBenchConfigSchema.safeParse(cfg);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`qlab: bench sim: ${issue.path.join('.')}: ${issue.message}\n`);
    return 2;
  }
  const log = (m: string) => process.stderr.write(m + '\n');
  const res = await runSimBench(parsed.data, {
    log,
    progress: (f, m) => process.stderr.write(`[${(f * 100).toFixed(0).padStart(3)}%] ${m}\n`),
  });
  const record = { date: new Date().toISOString(), config: parsed.data, ...res };
  if (out) {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, JSON.stringify(record, null, 1));
  }
  if (json) process.stdout.write(JSON.stringify(record) + '\n');
  else {
    process.stdout.write(formatBenchTable(res.rows) + '\n' + SIM_BENCH_LEGEND + '\n');
    process.stdout.write(
      `backends: ${res.backends.map((b) => `${b.backend}/${b.mode} ${b.precision}${b.threads ? `×${b.threads}` : ''}${b.fallbackReason ? ` (${b.fallbackReason})` : ''}`).join(', ')}; ` +
        `peer: ${res.peer.available ? `torch ${res.peer.torch}, ${res.peer.threads} threads` : `unavailable (${res.peer.reason})`}` +
        (out ? `; written to ${out}` : '') +
        '\n',
    );
  }
  return 0;
}
