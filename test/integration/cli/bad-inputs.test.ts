// Issue 13, "bounded before allocated" and "clear messages" at the CLI and the LabApi boundary: each
// oversized or malformed input refused in well under a second with a sentence naming the field or line.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as lmMain } from '../../../core/cli/lm';
import { main as simMain } from '../../../core/cli/sim';
import { dispatch } from '../../../core/cli/dispatch';
import { startServer } from '../../../core/cli/server';
import { openLab, type LabService } from '../../../core/lab/service';
import { buildModel, saveModelDir, specFromHfConfig } from '../../../core/nn/checkpoint';
import { CharTokenizer } from '../../../core/nn/tokenizers/char';
import { captureCli, qlabIn, type CliResult } from '../../helpers/seed-lab';
import { tinyHfLm } from '../../helpers/tiny-transformer';

const KINDS = fileURLToPath(new URL('../../fixtures/lab-kinds.ts', import.meta.url));
process.env.QLAB_EXTRA_KINDS = KINDS;

let dir = '';
let labDir = '';
let lab: LabService;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qlab-badcli-'));
  labDir = join(dir, 'lab');
  lab = await openLab({ labDir, schedule: false });
});
afterAll(async () => {
  await lab.close();
  rmSync(dir, { recursive: true, force: true });
});

const inproc = qlabIn(() => dir, { QLAB_EXTRA_KINDS: KINDS });
async function qlab(...args: string[]): Promise<CliResult & { ms: number }> {
  const t0 = performance.now();
  const r = await inproc(...args);
  return { ...r, ms: performance.now() - t0 };
}

async function sim(...args: string[]): Promise<{ code: number; err: string; ms: number }> {
  let err = '';
  const t0 = performance.now();
  const code = await simMain(args, {
    stdout: { write: () => true },
    stderr: { write: (s: string) => ((err += s), true) },
    cwd: dir,
  } as never);
  return { code, err, ms: performance.now() - t0 };
}

const lm = (argv: string[]) => captureCli(lmMain, argv);

const file = (name: string, text: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('clear messages', () => {
  it('says a --lab-dir that is a file is not a folder (no raw EEXIST), exit 2', async () => {
    const f = file('hostname', 'x\n');
    const cfg = file('ok.json', '{"kind":"test-stream","config":{"steps":1}}');
    for (const d of [f, join(f, 'sub')]) {
      const r = await qlab('run', cfg, '--lab-dir', d);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not a folder|a part of its path is a file/);
      expect(r.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    }
  });

  it('cancel --wait -1 is out of range, not a missing value', async () => {
    const r = await qlab('cancel', '00000000', '--wait', '-1', '--lab-dir', labDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option --wait must be seconds in 0..600, got '-1'");
  });

  it('escapes control characters of names in terminal tables', async () => {
    const { printable, table } = await import('../../../core/cli/format');
    expect(printable('evil\u001b[2J\nname')).toBe('evil\\u001b[2J\\u000aname');
    expect(table(['NAME'], [['a\u0007b']])).not.toContain('\u0007');
  });
});

describe('qlab run config files', () => {
  it('refuses /dev/zero and a symlink to it as a config file at once', async () => {
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    for (const p of ['/dev/zero', join(dir, 'zero.json')]) {
      const r = await qlab('run', p, '--lab-dir', labDir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not a regular file');
      expect(r.ms).toBeLessThan(1000);
    }
  });

  it('refuses 200k levels of nesting with a line and column, not a stack overflow', async () => {
    const p = file(
      'deep.json',
      `{"kind":"test-stream","config":\n${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
    );
    const r = await qlab('run', p, '--lab-dir', labDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/deep\.json:2:\d+: invalid JSON: nested deeper than 256 levels/);
    expect(r.stderr).not.toMatch(/call stack/);
    expect(r.ms).toBeLessThan(1000);
  });

  it('refuses invalid UTF-8 in a config file instead of storing U+FFFD', async () => {
    const p = file(
      'bad-utf8.json',
      Buffer.concat([
        Buffer.from('{"kind":"test-stream","name":"a'),
        Buffer.from([0xff]),
        Buffer.from('","config":{"steps":1}}'),
      ]),
    );
    const r = await qlab('run', p, '--lab-dir', labDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not valid UTF-8');
  });
});

describe('the LabApi boundary', () => {
  it('refuses a __proto__ key in config instead of dropping it, and writes no row', async () => {
    const r = await dispatch(
      lab,
      'createRun',
      JSON.parse('{"kind":"test-stream","config":{"steps":1,"__proto__":{"x":1}}}'),
    );
    expect(r.ok ? null : r.error).toMatchObject({ field: 'config.__proto__' });
    expect(await lab.listRuns()).toEqual([]);
  });

  it('refuses names with a lone surrogate or control characters, and deep configs', async () => {
    for (const name of ['a\ud800b', 'evil\u001b[2Jname', 'line\nbreak']) {
      const r = await dispatch(lab, 'createRun', { kind: 'test-stream', name, config: { steps: 1 } });
      expect(r.ok ? null : r.error, JSON.stringify(name)).toMatchObject({ field: 'name' });
    }
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const r = await dispatch(lab, 'createRun', { kind: 'test-stream', config: { steps: 1, x: deep } });
    expect(r.ok ? null : r.error?.message).toMatch(/nested deeper than 64/);
    expect(await lab.listRuns()).toEqual([]);
  });

  it('refuses invalid UTF-8 and deep nesting in an HTTP body', async () => {
    const s = await startServer({
      api: lab,
      host: '127.0.0.1',
      port: 0,
      token: 'a-test-token-of-length',
      rendererDir: null,
    });
    try {
      const post = (body: Buffer | string) =>
        fetch(`${s.url}api/createRun`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer a-test-token-of-length' },
          body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
        });
      const bad = Buffer.concat([
        Buffer.from('{"kind":"test-stream","name":"a'),
        Buffer.from([0xc3]),
        Buffer.from('","config":{"steps":1}}'),
      ]);
      const r1 = await post(bad);
      expect(r1.status).toBe(400);
      expect(((await r1.json()) as { error: { message: string } }).error.message).toContain(
        'not valid UTF-8',
      );
      const r2 = await post(`{"kind":"test-stream","config":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      expect(r2.status).toBe(400);
      expect(((await r2.json()) as { error: { message: string } }).error.message).toMatch(/nested deeper/);
    } finally {
      await s.close();
    }
  });
});

describe('qlab sim circuit files', () => {
  it('refuses 300k input rows before allocating their states', async () => {
    const rows = new Array(300_000).fill('[0.1]').join(',');
    const circuit = {
      qubits: 20,
      numInputs: 1,
      ops: [{ type: 'gate', gate: 'RY', wires: [0], angles: [{ kind: 'input', index: 0 }] }],
    };
    const p = file('rows.json', `${JSON.stringify(circuit).slice(0, -1)},"inputs":[${rows}]}`);
    const r = await sim(p);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/inputs.*300000 rows/);
    expect(r.ms).toBeLessThan(1000);
  });
});

describe('qlab lm score', () => {
  let modelDir = '';
  beforeAll(async () => {
    const tok = CharTokenizer.train(['abcdefghij ']);
    const make = async (name: string, maxPos: number, poison: boolean) => {
      const spec = specFromHfConfig(tinyHfLm(tok.vocabSize, maxPos));
      const model = buildModel(spec, { seed: 3 });
      if (poison) for (const p of model.parameters()) p.data.fill(Number.NaN);
      await saveModelDir(join(dir, name), model, { tokenizer: tok });
    };
    await make('pos1', 1, false);
    await make('nan', 8, true);
    modelDir = dir;
    file('ids.json', '[1,2,3,4,5]');
  });

  it('refuses max_position_embeddings 1 at once instead of looping', async () => {
    const r = await lm(['score', '--model', join(modelDir, 'pos1'), '--tokens', join(dir, 'ids.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/max_position_embeddings is 1/);
    expect(r.ms).toBeLessThan(1000);
  });

  it('fails (not exit 0 with perplexity NaN) on NaN weights', async () => {
    const r = await lm(['score', '--model', join(modelDir, 'nan'), '--tokens', join(dir, 'ids.json')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/non-finite/);
  });
});
