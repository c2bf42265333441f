// `qlab sim`: analytic Bell/GHZ/RX values, the wire-order convention, gradients by adjoint against
// parameter shift against finite differences taken by editing the k-th angle literal of the file
// itself, seeded shots, the gpu backend (webasm) against cpu, noise, errors and exit codes, and the
// wiring through `node bin/qlab.js sim`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../core/cli/sim';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const FIX = 'test/fixtures/sim';
const tmp = mkdtempSync(join(tmpdir(), 'qlab-sim-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  out: string;
  err: string;
}

async function sim(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd: ROOT,
  });
  return { code, out, err };
}

interface Json {
  qubits: number;
  batch: number;
  probs: number[] & number[][];
  expvalZ: number[] & number[][];
  gradZ: number[][] & number[][][];
  gradZInputs: number[][][];
  params: number[];
  backend: { backend: string; mode: string; precision: string };
  counts: Record<string, number>;
  stderrZ: number[];
  estimator: string;
  shots: number;
  drawing: string;
  resources: { qubits: number; depth: number; twoQubitGates: number; params: number };
  noise: { method: string };
  expvals: number[];
}

async function simJson(...args: string[]): Promise<Json> {
  const r = await sim(...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const lines = r.out.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]) as Json;
}

const close = (a: readonly number[], b: readonly number[], tol: number): void => {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]), `index ${i}: ${x} vs ${b[i]}`).toBeLessThanOrEqual(tol));
};

describe('qlab sim: analytic circuits', () => {
  it('Bell state: probs [½,0,0,½] and ⟨Z⟩ = 0 in f64, and in the default f32 within float32 rounding', async () => {
    const r = await simJson(`${FIX}/bell.qasm`, '--precision', 'f64');
    expect(r.qubits).toBe(2);
    expect(r.backend).toEqual({ backend: 'cpu', mode: 'wasm-simd', precision: 'f64' });
    expect(r.estimator).toBe('exact');
    close(r.probs, [0.5, 0, 0, 0.5], 1e-15);
    close(r.expvalZ, [0, 0], 1e-15);
    const f = await simJson(`${FIX}/bell.qasm`);
    expect(f.backend.precision).toBe('f32');
    close(f.probs, [0.5, 0, 0, 0.5], 1e-6);
  });

  it('GHZ on 3 wires: probs ½ at |000⟩ and |111⟩, ⟨Z⟩ = 0; the text summary lists both', async () => {
    const r = await simJson(`${FIX}/ghz3.qasm`, '--precision', 'f64');
    close(r.probs, [0.5, 0, 0, 0, 0, 0, 0, 0.5], 1e-15);
    close(r.expvalZ, [0, 0, 0], 1e-15);
    const t = await sim(`${FIX}/ghz3.qasm`);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/\|000⟩ {2}0\.500000/);
    expect(t.out).toMatch(/\|111⟩ {2}0\.500000/);
    expect(t.out).toContain('⟨Z⟩');
  });

  it('wire 0 is the most significant bit of the probability index (PennyLane order)', async () => {
    // x on wire 0, RY(π/2) on wire 2: |1⟩⊗|0⟩⊗(|0⟩+|1⟩)/√2 → indices 0b100 and 0b101
    const r = await simJson(`${FIX}/x-wire0.qasm`, '--precision', 'f64');
    close(r.probs, [0, 0, 0, 0, 0.5, 0.5, 0, 0], 1e-15);
    close(r.expvalZ, [-1, 1, 0], 1e-15);
  });

  it('rx(θ): ⟨Z⟩ = cos θ and gradZ = −sin θ by adjoint and by parameter shift', async () => {
    const t = 0.7;
    for (const grad of ['adjoint', 'parameter-shift']) {
      const r = await simJson(`${FIX}/rx.qasm`, '--precision', 'f64', '--grad', grad);
      close(r.expvalZ, [Math.cos(t)], 1e-15);
      expect(r.params).toEqual([t]);
      expect(r.gradZ).toHaveLength(1);
      close(r.gradZ[0], [-Math.sin(t)], 1e-14);
    }
    const f32 = await simJson(`${FIX}/rx.qasm`, '--grad', 'adjoint');
    close(f32.gradZ[0], [-Math.sin(t)], 1e-6);
  });

  it('--draw and --resources add the drawing and the resource estimate; the text mode prints the drawing', async () => {
    const r = await simJson(`${FIX}/bell.qasm`, '--draw', '--resources');
    expect(r.drawing.split('\n')).toHaveLength(2);
    expect(r.drawing).toContain('H');
    expect(r.drawing).toContain('●');
    expect(r.resources).toMatchObject({ qubits: 2, depth: 2, twoQubitGates: 1, params: 0 });
    const t = await sim(`${FIX}/bell.qasm`, '--draw', '--resources');
    expect(t.out).toContain(r.drawing);
    expect(t.out).toMatch(/resources: depth 2/);
  });

  it('--help prints the usage with exit code 0', async () => {
    const r = await sim('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: qlab sim/);
  });
});

/** Positions of the numeric literals inside gate argument lists `name(…)` of a QASM text. */
function angleLiterals(text: string): { start: number; end: number; value: number }[] {
  const out: { start: number; end: number; value: number }[] = [];
  for (const m of text.matchAll(/^\s*[a-z0-9]+\(([^)]*)\)/gm)) {
    const argsStart = (m.index as number) + m[0].indexOf('(') + 1;
    for (const n of m[1].matchAll(/-?\d+(\.\d+)?/g))
      out.push({
        start: argsStart + (n.index as number),
        end: argsStart + (n.index as number) + n[0].length,
        value: Number(n[0]),
      });
  }
  return out;
}

describe('qlab sim: gradients on a random QASM file with u3, crz and cu3', () => {
  const file = `${FIX}/random3.qasm`;
  const text = readFileSync(join(ROOT, file), 'utf8');
  const literals = angleLiterals(text);

  it('gradZ[w][k] is the derivative by the k-th angle literal of the file: adjoint = parameter shift = finite differences', async () => {
    // u3 counts three: u3 ry crz ry cu3 rz u3 crz rx cu3 u3 = 3+1+1+1+3+1+3+1+1+3+3 angle arguments
    expect(literals).toHaveLength(21);
    const adj = await simJson(file, '--precision', 'f64', '--grad', 'adjoint');
    const ps = await simJson(file, '--precision', 'f64', '--grad', 'parameter-shift');
    expect(adj.params).toEqual(literals.map((l) => l.value));
    expect(adj.gradZ).toHaveLength(3);
    for (let w = 0; w < 3; w++) {
      expect(adj.gradZ[w]).toHaveLength(21);
      close(adj.gradZ[w], ps.gradZ[w], 1e-12);
    }
    // central differences of the CLI's own ⟨Z⟩, perturbing the k-th literal in the text
    const h = 1e-5;
    const path = join(tmp, 'fd.qasm');
    let moved = 0;
    for (let k = 0; k < literals.length; k++) {
      const l = literals[k];
      const at = async (v: number): Promise<number[]> => {
        writeFileSync(path, text.slice(0, l.start) + String(v) + text.slice(l.end));
        return (await simJson(path, '--precision', 'f64')).expvalZ;
      };
      const [p, m] = [await at(l.value + h), await at(l.value - h)];
      for (let w = 0; w < 3; w++) {
        const fd = (p[w] - m[w]) / (2 * h);
        expect(Math.abs(adj.gradZ[w][k] - fd), `w${w} k${k}`).toBeLessThan(1e-8);
        if (Math.abs(fd) > 1e-3) moved++;
      }
    }
    // the check is not vacuous: most derivatives are far from zero
    expect(moved).toBeGreaterThan(35);
  });

  it('the gpu backend (gpu.js webasm mode) agrees with cpu f64 within float32 tolerance', async () => {
    const cpu = await simJson(file, '--precision', 'f64', '--grad', 'adjoint');
    const gpu = await simJson(file, '--backend', 'gpu', '--gpu-mode', 'webasm', '--grad', 'adjoint');
    expect(gpu.backend).toMatchObject({ backend: 'gpu', mode: 'webasm', precision: 'f32' });
    close(gpu.probs, cpu.probs, 2e-6);
    close(gpu.expvalZ, cpu.expvalZ, 2e-6);
    for (let w = 0; w < 3; w++) close(gpu.gradZ[w], cpu.gradZ[w], 2e-5);
    const bell = await simJson(`${FIX}/bell.qasm`, '--backend', 'gpu', '--gpu-mode', 'webasm');
    close(bell.probs, [0.5, 0, 0, 0.5], 1e-6);
  });
});

describe('qlab sim: JSON circuit files with a batch', () => {
  const file = `${FIX}/batch.json`;
  const record = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as {
    params: number[];
    inputs: number[][];
  };

  it('prints per-row arrays; adjoint, parameter shift and finite differences of the file agree', async () => {
    const adj = await simJson(file, '--precision', 'f64', '--grad', 'adjoint');
    const ps = await simJson(file, '--precision', 'f64', '--grad', 'parameter-shift');
    expect(adj.batch).toBe(3);
    expect(adj.probs).toHaveLength(3);
    expect(adj.gradZ).toHaveLength(3);
    for (let b = 0; b < 3; b++) {
      const p = adj.probs[b];
      expect(p).toHaveLength(4);
      // ⟨Z_0⟩ = p00 + p01 − p10 − p11, ⟨Z_1⟩ = p00 − p01 + p10 − p11
      close(adj.expvalZ[b], [p[0] + p[1] - p[2] - p[3], p[0] - p[1] + p[2] - p[3]], 1e-14);
      for (let w = 0; w < 2; w++) {
        close(adj.gradZ[b][w], ps.gradZ[b][w], 1e-12);
        close(adj.gradZInputs[b][w], ps.gradZInputs[b][w], 1e-12);
      }
    }
    const h = 1e-5;
    const path = join(tmp, 'fd.json');
    const at = async (params: number[], inputs: number[][]): Promise<number[][]> => {
      writeFileSync(
        path,
        JSON.stringify({ ...JSON.parse(readFileSync(join(ROOT, file), 'utf8')), params, inputs }),
      );
      return (await simJson(path, '--precision', 'f64')).expvalZ;
    };
    for (let k = 0; k < 2; k++) {
      const shifted = (d: number): number[] => record.params.map((x, i) => (i === k ? x + d : x));
      const [p, m] = [await at(shifted(h), record.inputs), await at(shifted(-h), record.inputs)];
      for (let b = 0; b < 3; b++)
        for (let w = 0; w < 2; w++)
          expect(Math.abs(adj.gradZ[b][w][k] - (p[b][w] - m[b][w]) / (2 * h))).toBeLessThan(1e-8);
    }
    const rows = (d: number): number[][] => record.inputs.map((r) => [r[0] + d]);
    const [p, m] = [await at(record.params, rows(h)), await at(record.params, rows(-h))];
    for (let b = 0; b < 3; b++)
      for (let w = 0; w < 2; w++)
        expect(Math.abs(adj.gradZInputs[b][w][0] - (p[b][w] - m[b][w]) / (2 * h))).toBeLessThan(1e-8);
  });

  it('the gpu backend agrees with cpu on the batch', async () => {
    const cpu = await simJson(file, '--precision', 'f64', '--grad', 'adjoint');
    const gpu = await simJson(file, '--backend', 'gpu', '--gpu-mode', 'webasm', '--grad', 'adjoint');
    for (let b = 0; b < 3; b++) {
      close(gpu.probs[b], cpu.probs[b], 2e-6);
      for (let w = 0; w < 2; w++) close(gpu.gradZ[b][w], cpu.gradZ[b][w], 2e-5);
    }
  });
});

describe("qlab sim: the file's own observables", () => {
  const file = `${FIX}/observables.json`;
  it('prints expvals of the JSON observables: ⟨X0⟩ = 1, 2·⟨Z1⟩ = 2 cos θ, ⟨X0 X1⟩ = sin θ; shot estimates within error', async () => {
    const t = 0.9;
    const r = await simJson(file, '--precision', 'f64');
    const expvals = r.expvals;
    close(expvals, [1, 2 * Math.cos(t), Math.sin(t)], 1e-14);
    const shots = 4000;
    for (const extra of [[], ['--noise', `${FIX}/depolarizing.json`]]) {
      const args = [file, '--shots', String(shots), '--seed', '3', ...extra];
      const [a, b] = [await simJson(...args), await simJson(...args)];
      const e = a.expvals;
      expect(b.expvals).toEqual(e);
      // |+⟩ measured in the X basis gives +1 on every shot
      expect(e[0]).toBe(1);
      const z = Math.cos(t);
      expect(Math.abs(e[1] - 2 * z)).toBeLessThan(2 * 5 * Math.sqrt((1 - z * z) / shots));
      const x = Math.sin(t);
      expect(Math.abs(e[2] - x)).toBeLessThan(5 * Math.sqrt((1 - x * x) / shots));
    }
  });
});

describe('qlab sim: shots', () => {
  it('seeded shot estimates are reproducible bit for bit, are counts/shots, and lie within binomial error', async () => {
    const shots = 2000;
    const args = [`${FIX}/rx.qasm`, '--json', '--precision', 'f64', '--shots', String(shots), '--seed', '5'];
    const a = await sim(...args);
    const b = await sim(...args);
    expect(a.code).toBe(0);
    expect(b.out).toBe(a.out);
    const c = await simJson(`${FIX}/rx.qasm`, '--precision', 'f64', '--shots', String(shots), '--seed', '6');
    const r = JSON.parse(a.out) as Json;
    expect(c.probs).not.toEqual(r.probs);
    expect(r.estimator).toBe('shots');
    expect(r.shots).toBe(shots);
    expect(r.counts['0'] + r.counts['1']).toBe(shots);
    // printed probabilities are the counts over shots, not the exact values
    expect(r.probs).toEqual([r.counts['0'] / shots, r.counts['1'] / shots]);
    expect(r.expvalZ[0]).toBeCloseTo(r.probs[0] - r.probs[1], 15);
    const p1 = Math.sin(0.35) ** 2;
    expect(Math.abs(r.probs[1] - p1)).toBeLessThan(5 * Math.sqrt((p1 * (1 - p1)) / shots));
    expect(r.stderrZ[0]).toBeCloseTo(Math.sqrt((1 - r.expvalZ[0] ** 2) / (shots - 1)), 12);
  });

  it('shot-based parameter shift: reproducible and within a few standard errors of −sin θ', async () => {
    const shots = 20000;
    const args = [
      `${FIX}/rx.qasm`,
      '--precision',
      'f64',
      '--grad',
      'parameter-shift',
      '--shots',
      String(shots),
      '--seed',
      '11',
    ];
    const [a, b] = [await simJson(...args), await simJson(...args)];
    expect(a.gradZ).toEqual(b.gradZ);
    const g = a.gradZ[0][0];
    expect(Math.abs(g + Math.sin(0.7))).toBeLessThan(5 * Math.sqrt(0.5 / shots));
    // (n₊ − n₋)/shots-style estimate: never the exact value
    expect(g).not.toBe(-Math.sin(0.7));
  });

  it('a batch with shots prints one counts object per row', async () => {
    const r = await simJson(`${FIX}/batch.json`, '--shots', '500', '--seed', '1');
    const counts = r.counts as unknown as Record<string, number>[];
    expect(counts).toHaveLength(3);
    for (const row of counts) expect(Object.values(row).reduce((s, x) => s + x, 0)).toBe(500);
  });
});

describe('qlab sim: noise', () => {
  it('depolarizing after RX: ⟨Z⟩ = (1 − 4p/3)·cos θ, parameter-shift gradient −(1 − 4p/3)·sin θ, density matrix in f64', async () => {
    const r = await simJson(
      `${FIX}/rx.qasm`,
      '--noise',
      `${FIX}/depolarizing.json`,
      '--grad',
      'parameter-shift',
    );
    const f = 1 - (4 * 0.09) / 3;
    close(r.expvalZ, [f * Math.cos(0.7)], 1e-14);
    close(r.gradZ[0], [-f * Math.sin(0.7)], 1e-13);
    expect(r.backend).toMatchObject({ backend: 'cpu', mode: 'density-matrix', precision: 'f64' });
    expect(r.noise.method).toBe('density-matrix');
    const noisyShots = [
      `${FIX}/rx.qasm`,
      '--json',
      '--noise',
      `${FIX}/depolarizing.json`,
      '--shots',
      '300',
      '--seed',
      '2',
    ];
    const s1 = await sim(...noisyShots);
    const s2 = await sim(...noisyShots);
    expect(s1.code).toBe(0);
    expect(s2.out).toBe(s1.out);
  });
});

describe('qlab sim: errors and exit codes', () => {
  const fails = async (pattern: RegExp, ...args: string[]): Promise<void> => {
    const r = await sim(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toHaveLength(2); // one line and its newline
    expect(r.err).toMatch(pattern);
  };

  it('a bad QASM line, a bad JSON field and a JSON syntax error are named', async () => {
    await fails(
      /^qlab: bad-line\.qasm: line 5, column 1: unknown gate 'foo'$/m,
      `${FIX}/bad-line.qasm`,
      '--json',
    );
    await fails(
      /^qlab: bad-field\.json: ops\[1\]\.gate: unknown gate "CNOTT"$/m,
      `${FIX}/bad-field.json`,
      '--json',
    );
    await fails(/^qlab: bad-syntax\.json: line 4, column \d+: /m, `${FIX}/bad-syntax.json`);
  });

  it('bad params, inputs and unknown fields in a JSON file name the field', async () => {
    const base = JSON.parse(readFileSync(join(ROOT, FIX, 'batch.json'), 'utf8')) as Record<string, unknown>;
    const write = (name: string, v: unknown): string => {
      const p = join(tmp, name);
      writeFileSync(p, JSON.stringify(v));
      return p;
    };
    await fails(
      /inputs\[1\]: must be an array of numInputs = 1 numbers/,
      write('a.json', { ...base, inputs: [[0.1], [0.2, 0.3]] }),
    );
    await fails(/params\[1\]: must be a finite number/, write('b.json', { ...base, params: [0.1, 'x'] }));
    await fails(/params: needs numParams = 2 values, got 1/, write('c.json', { ...base, params: [0.1] }));
    await fails(/param: unknown field/, write('d.json', { ...base, param: [1] }));
  });

  it('bad options and option combinations are refused with one line', async () => {
    const bell = `${FIX}/bell.qasm`;
    await fails(/unknown option --foo for 'qlab sim'/, bell, '--foo');
    await fails(
      /--precision f64 is not available with --backend gpu/,
      bell,
      '--backend',
      'gpu',
      '--precision',
      'f64',
    );
    await fails(/option --backend must be one of cpu, gpu, got 'tpu'/, bell, '--backend', 'tpu');
    await fails(/option --shots must be between 1 and/, bell, '--shots', '0');
    await fails(/--grad adjoint needs the exact state/, bell, '--grad', 'adjoint', '--shots', '10');
    await fails(
      /--grad adjoint is not available with --noise/,
      bell,
      '--grad',
      'adjoint',
      '--noise',
      `${FIX}/depolarizing.json`,
    );
    await fails(/circuit file not found: .*missing\.qasm/, `${FIX}/missing.qasm`);
    await fails(/'qlab sim' needs one circuit file/);
    await fails(
      /bad-noise\.json: noise\.rules\[0\]\.channel\.p: must be a probability/,
      bell,
      '--noise',
      `${FIX}/bad-noise.json`,
    );
  });
});

describe('qlab sim through bin/qlab.js', () => {
  const run = promisify(execFile);
  it('runs as a child process: JSON on stdout with exit 0, and exit 2 with the line on stderr', async () => {
    const ok = await run(
      process.execPath,
      ['bin/qlab.js', 'sim', `${FIX}/ghz3.qasm`, '--json', '--precision', 'f64'],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    const r = JSON.parse(ok.stdout) as Json;
    close(r.probs, [0.5, 0, 0, 0, 0, 0, 0, 0.5], 1e-15);
    const bad = await run(process.execPath, ['bin/qlab.js', 'sim', `${FIX}/bad-line.qasm`], {
      cwd: ROOT,
      timeout: 60_000,
    }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).not.toBeNull();
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toMatch(/line 5, column 1: unknown gate 'foo'/);
  });
});
