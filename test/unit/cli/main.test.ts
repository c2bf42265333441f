// Command dispatch and error reporting, in process, with the lab replaced by a failing opener.
import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/api/lab-api';
import type { CliContext } from '../../../core/cli/context';
import { main, USAGE } from '../../../core/cli/main';
import { formatDuration, formatNumber, progressBar, table } from '../../../core/cli/format';

function ctx(
  env: Record<string, string> = {},
  open: CliContext['openLab'] = async () => Promise.reject(new Error('unused')),
) {
  const out = { stdout: '', stderr: '' };
  const c: CliContext = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env,
    cwd: '/tmp',
    openLab: open,
  };
  return { c, out };
}

describe('main', () => {
  it('prints usage: to stderr with exit 2 when no command is given, to stdout for --help', async () => {
    const a = ctx();
    expect(await main([], a.c)).toBe(2);
    expect(a.out.stderr).toBe(USAGE);
    const b = ctx();
    expect(await main(['--help'], b.c)).toBe(0);
    expect(b.out.stdout).toBe(USAGE);
    const r = ctx();
    expect(await main(['runs', '--help'], r.c)).toBe(0);
    expect(r.out.stdout).toBe(USAGE);
  });

  it('reports an unknown command in one line', async () => {
    const a = ctx();
    expect(await main(['frob'], a.c)).toBe(2);
    expect(a.out.stderr).toBe("qlab: unknown command 'frob' (see qlab --help)\n");
  });

  it('maps lab errors to one line and an exit code, with the stack only under QLAB_DEBUG=1', async () => {
    const fail = async (): Promise<never> => {
      throw new LabError('internal', 'database is newer than this code (schema 9 > 1)');
    };
    const a = ctx({}, fail);
    expect(await main(['runs', '--lab-dir', '/tmp/x'], a.c)).toBe(3);
    expect(a.out.stderr).toBe('qlab: database is newer than this code (schema 9 > 1)\n');
    const b = ctx({ QLAB_DEBUG: '1' }, fail);
    expect(await main(['runs', '--lab-dir', '/tmp/x'], b.c)).toBe(3);
    expect(b.out.stderr.split('\n').length).toBeGreaterThan(3);
    expect(b.out.stderr).toMatch(/\n\s+at /);
    const c = ctx({}, async () => {
      throw new LabError('not-found', 'id: no run x', 'id');
    });
    expect(await main(['show', 'abcd1234', '--lab-dir', '/tmp/x'], c.c)).toBe(2);
  });

  it('hands `sim` to its own module', async () => {
    const a = ctx();
    const code = await main(['sim', '--definitely-not-an-option'], a.c);
    expect(code).not.toBe(0);
  });
});

describe('format', () => {
  it('aligns columns, right-aligning numeric ones', () => {
    expect(
      table(
        ['KEY', 'N'],
        [
          ['a', 1],
          ['bbb', 100],
        ],
      ),
    ).toBe('KEY    N\na      1\nbbb  100\n');
  });
  it('prints numbers with six significant digits and durations in human units', () => {
    expect(formatNumber(1 / 3)).toBe('0.333333');
    expect(formatNumber(42)).toBe('42');
    expect(formatNumber(1.5e-7)).toBe('1.5000e-7');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(125_000)).toBe('2m 5s');
    expect(progressBar(0.5, 10)).toBe('[#####-----]  50%');
    expect(progressBar(Number.NaN, 4)).toBe('[----]   0%');
  });
});
