// `qlab calibrate [--gguf FILE…]`: its arguments (files made absolute against the working folder, at most 8,
// one line per refusal naming the option) and what it asks the lab (the CLI's own files: localFiles) and prints.
import { describe, expect, it } from 'vitest';
import { LabError, type Calibration, type CalibrateRequest } from '../../../core/api/lab-api';
import { parseCalibrateArgs } from '../../../core/cli/calibrate';
import type { CliContext, CliLab } from '../../../core/cli/context';
import { main } from '../../../core/cli/main';

const where = { env: { QLAB_HOME: '/labs/home' }, cwd: '/work/here' };

const cal: Calibration = {
  measuredAt: '2026-12-05T10:00:00.000Z',
  secondsPerAmplitudeOp: 2e-9,
  amplitudeRates: [{ qubits: 4, secondsPerAmplitudeOp: 2e-9 }],
  secondsPerFlop: 1e-10,
  host: { cpu: 'Test CPU', cores: 2 },
  detail: 'simulator: …',
  gguf: [
    {
      path: '/models/real/tiny.gguf',
      names: ['/work/here/tiny.gguf'],
      size: 10,
      mtimeMs: 1,
      loadSeconds: 0.25,
      secondsPerSample: 0.012,
      secondsPerChar: 2.5e-5,
      tokensPerChar: 0.3,
      measuredAt: '2026-12-05T10:00:00.000Z',
    },
  ],
};

function refusal(argv: string[]): string {
  try {
    parseCalibrateArgs(argv, where);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('qlab calibrate: arguments', () => {
  it('takes GGUF files after --gguf, repeated or listed, made absolute against the working folder', () => {
    expect(parseCalibrateArgs([], where)).toEqual({
      labDir: '/labs/home',
      ggufFiles: undefined,
      json: false,
    });
    expect(parseCalibrateArgs(['--gguf', 'm/a.gguf', '--json', '--lab-dir', 'lab'], where)).toEqual({
      labDir: '/work/here/lab',
      ggufFiles: ['/work/here/m/a.gguf'],
      json: true,
    });
    // more files after the first, --gguf again, an absolute one, a repeat (timed once)
    expect(
      parseCalibrateArgs(['--gguf', 'a.gguf', 'b.gguf', '--gguf=/abs/c.gguf', './a.gguf'], where).ggufFiles,
    ).toEqual(['/work/here/a.gguf', '/abs/c.gguf', '/work/here/b.gguf']);
  });

  it('refuses in one line, naming the option', () => {
    expect(refusal(['tiny.gguf'])).toBe(
      "'qlab calibrate' takes no arguments without --gguf; unexpected 'tiny.gguf' (qlab calibrate --gguf FILE…)",
    );
    expect(refusal(['--gguf'])).toBe('option --gguf needs a value');
    expect(refusal(['--gguf', '--json'])).toBe('option --gguf needs a value');
    expect(refusal(['--gguf', ' '])).toBe("--gguf: file 1 is empty; give a GGUF file's path");
    expect(refusal(['--gguf', ...Array.from({ length: 9 }, (_, i) => `m${i}.gguf`)])).toBe(
      '--gguf: at most 8 files at once, got 9',
    );
    expect(refusal(['--quick'])).toBe("unknown option --quick for 'qlab calibrate'");
    expect(refusal(['--json=yes'])).toBe('option --json takes no value');
  });
});

describe('qlab calibrate: the command', () => {
  function run(calibrate: CliLab['calibrate']) {
    const out = { stdout: '', stderr: '' };
    const calls: { req: CalibrateRequest | undefined; opts: unknown }[] = [];
    let closed = 0;
    const c: CliContext = {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      ...where,
      openLab: async (labDir, opts) => {
        expect(labDir).toBe('/labs/home');
        expect(opts).toEqual({ schedule: true, adoptQueued: false });
        return {
          calibrate: (req?: CalibrateRequest, o?: { localFiles?: boolean }) => {
            calls.push({ req, opts: o });
            return calibrate(req, o);
          },
          close: async () => void closed++,
        } as unknown as CliLab;
      },
    };
    return { c, out, calls, closed: () => closed };
  }

  it('times the files as the CLI user’s own (no file roots) and prints one line per file', async () => {
    const r = run(async () => cal);
    expect(await main(['calibrate', '--gguf', 'tiny.gguf'], r.c)).toBe(0);
    expect(r.calls).toEqual([{ req: { ggufFiles: ['/work/here/tiny.gguf'] }, opts: { localFiles: true } }]);
    expect(r.out.stdout).toBe(
      'GGUF /models/real/tiny.gguf: load 250.0 ms; per sample 12.0 ms + 25.0 µs per character (0.30 tokens per character)\n',
    );
    expect(r.closed()).toBe(1);
  });

  it('measures the whole calibration without --gguf, and prints JSON with --json', async () => {
    const r = run(async () => cal);
    expect(await main(['calibrate'], r.c)).toBe(0);
    expect(r.calls).toEqual([{ req: undefined, opts: { localFiles: true } }]);
    expect(r.out.stdout).toBe('calibrated 2026-12-05T10:00:00.000Z on Test CPU (2 cores)\nsimulator: …\n');
    const j = run(async () => cal);
    expect(await main(['calibrate', '--json'], j.c)).toBe(0);
    expect(JSON.parse(j.out.stdout)).toEqual(cal);
  });

  it("reports the lab's refusal in one line with exit 2, and closes the lab", async () => {
    const r = run(async () => {
      throw new LabError(
        'invalid',
        'ggufFiles[0]: /work/here/x.gguf: the job process timing the GGUF model ended (signal SIGSEGV) before it answered',
        'ggufFiles[0]',
      );
    });
    expect(await main(['calibrate', '--gguf', 'x.gguf'], r.c)).toBe(2);
    expect(r.out.stderr).toBe(
      'timing 1 GGUF model in a job process…\nqlab: ggufFiles[0]: /work/here/x.gguf: the job process timing the GGUF model ended (signal SIGSEGV) before it answered\n',
    );
    expect(r.closed()).toBe(1);
  });
});
