import { describe, expect, it } from 'vitest';
import { CircuitBuilder } from '../../../core/quantum/circuit';
import { createCpuSimulator } from '../../../core/quantum/cpu/simulator';
import {
  basicEntanglerLayers,
  longRangeAnsatz,
  qdllmAnsatz,
  qthaLayers,
  stronglyEntanglingLayers,
} from '../../../core/quantum/templates';
import {
  angleEncoding,
  dataReuploading,
  minMaxRescaleBackward,
  minMaxRescaleForward,
} from '../../../core/quantum/encodings';

describe('templates', () => {
  it('parameter counts', () => {
    // 6n + (n − 1) = 76 for n = 11 (the brief's "72" does not match its own formula)
    expect(qdllmAnsatz(new CircuitBuilder(11), 1)).toBe(76);
    expect(qdllmAnsatz(new CircuitBuilder(11), 11)).toBe(836);
    expect(qthaLayers(new CircuitBuilder(5), 2)).toBe(40);
    expect(stronglyEntanglingLayers(new CircuitBuilder(10), 8)).toBe(240);
    expect(basicEntanglerLayers(new CircuitBuilder(4), 3)).toBe(12);
    expect(longRangeAnsatz(new CircuitBuilder(6), 2, 3)).toBe(12);
  });
  it('strongly entangling layers use PennyLane ranges', () => {
    const b = new CircuitBuilder(4);
    stronglyEntanglingLayers(b, 3);
    const cnots = b.build().ops.filter((o) => o.type === 'gate' && o.gate === 'CNOT');
    expect(cnots.slice(0, 4).map((o) => o.wires)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
    ]);
    expect(cnots.slice(4, 8).map((o) => o.wires)).toEqual([
      [0, 2],
      [1, 3],
      [2, 0],
      [3, 1],
    ]);
    expect(cnots.slice(8, 12).map((o) => o.wires)).toEqual([
      [0, 3],
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
  });
  it('long-range CNOTs target (q + c) mod n with RY on the target', () => {
    const b = new CircuitBuilder(5);
    longRangeAnsatz(b, 1, 2);
    const ops = b.build().ops;
    expect(ops[0]).toMatchObject({ gate: 'CNOT', wires: [0, 2] });
    expect(ops[1]).toMatchObject({ gate: 'RY', wires: [2] });
    expect(ops[8]).toMatchObject({ gate: 'CNOT', wires: [4, 1] });
  });
  it('QTHA with zero angles leaves RY(x) expectations cos x', async () => {
    const b = new CircuitBuilder(3, 3);
    const p = qthaLayers(b, 1);
    const c = b.build();
    const x = [0.3, 1.1, -0.7];
    const e = await createCpuSimulator({ precision: 'f64' }).expval({
      circuit: c,
      params: new Array(p).fill(0),
      inputs: x,
      batch: 1,
    });
    x.forEach((v, i) => expect(e.expvals[i]).toBeCloseTo(Math.cos(v), 12));
  });
  it('data re-uploading encodes the same features before every layer', () => {
    const b = new CircuitBuilder(2, 2);
    const p = dataReuploading(
      b,
      3,
      (bb) => angleEncoding(bb, [0, 1], 'RX', 0, 0.5),
      (bb) => basicEntanglerLayers(bb, 1, 'RY'),
    );
    expect(p).toBe(6);
    const c = b.build();
    const enc = c.ops.filter((o) => o.type === 'gate' && o.gate === 'RX');
    expect(enc.length).toBe(6);
    expect(enc[4]).toMatchObject({ wires: [0], angles: [{ kind: 'input', index: 0, scale: 0.5 }] });
  });
});

describe('min-max rescale', () => {
  it('maps each row onto [0, s] and its backward matches finite differences', () => {
    const x = [0.3, -1.2, 2.5, 0.7, 4, 1, 1.5, 1.2, 2, 3, -5, 0];
    const rows = 3;
    const cols = 4;
    const s = Math.PI;
    const f = minMaxRescaleForward(x, rows, cols, s);
    expect(f.y[1]).toBe(0);
    expect(f.y[2]).toBeCloseTo(s, 15);
    const dy = x.map((_, i) => Math.sin(i + 1));
    const dx = minMaxRescaleBackward(x, f, dy, rows, cols, s);
    const h = 1e-6;
    for (let k = 0; k < x.length; k++) {
      const xp = [...x];
      xp[k] += h;
      const xm = [...x];
      xm[k] -= h;
      const yp = minMaxRescaleForward(xp, rows, cols, s).y;
      const ym = minMaxRescaleForward(xm, rows, cols, s).y;
      let want = 0;
      for (let i = 0; i < x.length; i++) want += (dy[i] * (yp[i] - ym[i])) / (2 * h);
      expect(Math.abs(dx[k] - want), `x${k}`).toBeLessThan(1e-7);
    }
  });
});
