import { describe, expect, it } from 'vitest';
import { CircuitBuilder } from '../../../core/quantum/circuit';
import { angleLabel, drawSvg, drawText } from '../../../core/quantum/draw';
import { resources, shotsForStandardError } from '../../../core/quantum/resources';

const bell = (): CircuitBuilder => new CircuitBuilder(3, 1).gate('H', [0]).gate('CNOT', [0, 1]);

describe('drawing', () => {
  it('text: one line per wire, controls ●, targets ⊕, crossings ┼, short labels', () => {
    const b = bell();
    b.gate('RX', [2], [b.p()])
      .gate('Toffoli', [0, 2, 1])
      .gate('CRZ', [2, 0], [Math.PI / 2])
      .gate('SWAP', [0, 2])
      .gate('RY', [1], [b.x(0, 0.5)]);
    const t = drawText(b.build());
    expect(t).toBe(drawText(b.build()));
    const lines = t.split('\n');
    expect(lines).toHaveLength(3);
    expect(new Set(lines.map((l) => [...l].length)).size).toBe(1);
    expect(lines[0]).toMatch(/^0: ─+H─+●─+●─+RZ\(π\/2\)─+×─+$/);
    expect(lines[1]).toMatch(/^1: ─+⊕─+⊕─+┼─+┼─+RY\(0\.5·x0\)─+$/);
    expect(lines[2]).toContain('RX(θ0)');
    expect(lines[2]).toMatch(/RX\(θ0\)─+●─+●─+×/);
  });

  it('labels angles briefly', () => {
    expect(angleLabel({ kind: 'const', value: -Math.PI / 4 })).toBe('-π/4');
    expect(angleLabel({ kind: 'const', value: 0.123456 })).toBe('0.123');
    expect(angleLabel({ kind: 'param', index: 3, scale: 2 })).toBe('2·θ3');
    expect(angleLabel({ kind: 'input', index: 1 })).toBe('x1');
  });

  it('svg: standalone, deterministic, with shapes for each part', () => {
    const c = bell().gate('CZ', [1, 2]).gate('SWAP', [0, 2]).gate('RZZ', [0, 1], [0.25]).build();
    const svg = drawSvg(c, { title: 'a <b> & "c"' });
    expect(svg).toBe(drawSvg(c, { title: 'a <b> & "c"' }));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<title>a &lt;b&gt; &amp; &quot;c&quot;</title>');
    expect(svg.match(/<rect /g)).toHaveLength(3); // H and RZZ on two wires
    expect(svg.match(/<circle [^>]*fill="#222"/g)).toHaveLength(3); // CNOT control + two CZ dots
    expect(svg.match(/<path /g)).toHaveLength(2); // swap crosses
    expect(svg.match(/<text /g)?.length).toBe(3 + 3);
    expect(svg).not.toMatch(/NaN|undefined/);
  });
});

describe('resources', () => {
  it('counts a known circuit', () => {
    const b = new CircuitBuilder(4, 4);
    b.amplitude([0, 1], 0, 4);
    for (let w = 0; w < 4; w++) b.gate('RY', [w], [b.p()]);
    b.gate('CNOT', [0, 1])
      .gate('CNOT', [2, 3])
      .gate('CNOT', [1, 2])
      .gate('Toffoli', [0, 1, 3])
      .gate('RZ', [0], [0.1]);
    const r = resources(b.build());
    expect(r).toEqual({
      qubits: 4,
      // amp | RY×4 (wires 0,1 after amp) | CNOT 0-1, 2-3 | CNOT 1-2 | Toffoli | RZ
      depth: 6,
      gates: 9,
      oneQubitGates: 5,
      twoQubitGates: 3,
      threeQubitGates: 1,
      amplitudeOps: 1,
      byGate: { RY: 4, CNOT: 3, Toffoli: 1, RZ: 1 },
      params: 4,
      inputs: 4,
    });
    expect(resources(new CircuitBuilder(2).build()).depth).toBe(0);
  });

  it('shots for a standard error', () => {
    expect(shotsForStandardError(0.01)).toBe(10000);
    expect(shotsForStandardError(0.01, { expval: 0.6 })).toBe(6400);
    expect(shotsForStandardError(0.01, { expval: 1 })).toBe(1);
    expect(shotsForStandardError(0.1, { coeff: 2, expval: 1 })).toBe(300);
    expect(() => shotsForStandardError(0)).toThrow(/epsilon/);
    expect(() => shotsForStandardError(0.1, { expval: 1.5 })).toThrow(/expval/);
  });
});
