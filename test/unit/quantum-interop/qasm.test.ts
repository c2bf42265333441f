import { describe, expect, it } from 'vitest';
import { GATES, GATE_NAMES, CircuitBuilder, type GateName, type GateOp } from '../../../core/quantum/circuit';
import { formatAngle, parseQasm, QasmError, toQasm } from '../../../core/quantum/qasm';
import { denseState } from '../../helpers/quantum';
import { overlap, randomPrefix } from './reference';

const HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n';

// qelib1.inc's own definitions (renamed with a q_ prefix), expanded by the importer and compared
// with the built-in mapping: checks every convention (angles order, controls, phases) at once.
const QELIB_DEFS: [string, number, number, string][] = [
  ['u3', 3, 1, 'gate q_u3(theta,phi,lambda) q { U(theta,phi,lambda) q; }'],
  ['u2', 2, 1, 'gate q_u2(phi,lambda) q { U(pi/2,phi,lambda) q; }'],
  ['u1', 1, 1, 'gate q_u1(lambda) q { U(0,0,lambda) q; }'],
  ['p', 1, 1, 'gate q_p(lambda) q { U(0,0,lambda) q; }'],
  ['cx', 0, 2, 'gate q_cx c,t { CX c,t; }'],
  ['id', 0, 1, 'gate q_id a { U(0,0,0) a; }'],
  ['x', 0, 1, 'gate q_x a { u3(pi,0,pi) a; }'],
  ['y', 0, 1, 'gate q_y a { u3(pi,pi/2,pi/2) a; }'],
  ['z', 0, 1, 'gate q_z a { u1(pi) a; }'],
  ['h', 0, 1, 'gate q_h a { u2(0,pi) a; }'],
  ['s', 0, 1, 'gate q_s a { u1(pi/2) a; }'],
  ['sdg', 0, 1, 'gate q_sdg a { u1(-pi/2) a; }'],
  ['t', 0, 1, 'gate q_t a { u1(pi/4) a; }'],
  ['tdg', 0, 1, 'gate q_tdg a { u1(-pi/4) a; }'],
  ['sx', 0, 1, 'gate q_sx a { sdg a; h a; sdg a; }'],
  ['rx', 1, 1, 'gate q_rx(theta) a { u3(theta,-pi/2,pi/2) a; }'],
  ['ry', 1, 1, 'gate q_ry(theta) a { u3(theta,0,0) a; }'],
  ['rz', 1, 1, 'gate q_rz(phi) a { u1(phi) a; }'],
  ['cz', 0, 2, 'gate q_cz a,b { h b; cx a,b; h b; }'],
  ['cy', 0, 2, 'gate q_cy a,b { sdg b; cx a,b; s b; }'],
  ['swap', 0, 2, 'gate q_swap a,b { cx a,b; cx b,a; cx a,b; }'],
  ['ch', 0, 2, 'gate q_ch a,b { h b; sdg b; cx a,b; h b; t b; cx a,b; t b; h b; s b; x b; s a; }'],
  [
    'ccx',
    0,
    3,
    'gate q_ccx a,b,c { h c; cx b,c; tdg c; cx a,c; t c; cx b,c; tdg c; cx a,c; t b; t c; h c; cx a,b; t a; tdg b; cx a,b; }',
  ],
  ['crz', 1, 2, 'gate q_crz(lambda) a,b { u1(lambda/2) b; cx a,b; u1(-lambda/2) b; cx a,b; }'],
  ['cry', 1, 2, 'gate q_cry(lambda) a,b { ry(lambda/2) b; cx a,b; ry(-lambda/2) b; cx a,b; }'],
  [
    'crx',
    1,
    2,
    'gate q_crx(lambda) a,b { u1(pi/2) b; cx a,b; u3(-lambda/2,0,0) b; cx a,b; u3(lambda/2,-pi/2,0) b; }',
  ],
  [
    'cu1',
    1,
    2,
    'gate q_cu1(lambda) a,b { u1(lambda/2) a; cx a,b; u1(-lambda/2) b; cx a,b; u1(lambda/2) b; }',
  ],
  [
    'cu3',
    3,
    2,
    'gate q_cu3(theta,phi,lambda) c,t { u1((lambda+phi)/2) c; u1((lambda-phi)/2) t; cx c,t; u3(-theta/2,0,-(phi+lambda)/2) t; cx c,t; u3(theta/2,phi,0) t; }',
  ],
  ['rzz', 1, 2, 'gate q_rzz(theta) a,b { cx a,b; u1(theta) b; cx a,b; }'],
  ['rxx', 1, 2, 'gate q_rxx(theta) a,b { h a; h b; cx a,b; rz(theta) b; cx a,b; h a; h b; }'],
  [
    'ryy',
    1,
    2,
    'gate q_ryy(theta) a,b { rx(pi/2) a; rx(pi/2) b; cx a,b; rz(theta) b; cx a,b; rx(-pi/2) a; rx(-pi/2) b; }',
  ],
  ['cswap', 0, 3, 'gate q_cswap a,b,c { cx c,b; ccx a,b,c; cx c,b; }'],
];

describe('OpenQASM import: every qelib1 gate', () => {
  const angles = [0.7, -1.3, 2.1];
  for (const [name, np, nq, def] of QELIB_DEFS) {
    it(`${name} matches qelib1's definition on a generic state`, () => {
      const args = np ? `(${angles.slice(0, np).join(',')})` : '';
      // wires in a non-trivial order, so control/target order is checked too
      const wires = [2, 0, 3]
        .slice(0, nq)
        .map((w) => `q[${w}]`)
        .join(',');
      const prefix = randomPrefix(4, 7 + name.length);
      const a = parseQasm(`${HEAD}qreg q[4];\n${prefix}\n${name}${args} ${wires};\n`);
      const b = parseQasm(`${HEAD}${def}\nqreg q[4];\n${prefix}\nq_${name}${args} ${wires};\n`);
      expect(overlap(denseState(a.circuit), denseState(b.circuit))).toBeCloseTo(1, 12);
    });
  }

  it('maps names onto record gates with angles in file order', () => {
    const r = parseQasm(
      `${HEAD}qreg q[3];\nu3(0.1,0.2,0.3) q[1];\ncu3(1,2,3) q[2],q[0];\nccx q[0],q[1],q[2];\nrzz(0.5) q[0],q[2];`,
    );
    const ops = r.circuit.ops as GateOp[];
    expect(ops.map((o) => o.gate)).toEqual(['U3', 'CU3', 'Toffoli', 'RZZ']);
    expect(ops[0].angles).toEqual([
      { kind: 'const', value: 0.1 },
      { kind: 'const', value: 0.2 },
      { kind: 'const', value: 0.3 },
    ]);
    expect(ops[1].wires).toEqual([2, 0]);
    expect(ops[2].wires).toEqual([0, 1, 2]);
  });
});

describe('OpenQASM import: registers, statements, expressions', () => {
  it('flattens several qregs in declaration order and broadcasts over registers', () => {
    const r = parseQasm(
      `${HEAD}qreg a[2];\ncreg c[3];\nqreg b[1];\nqreg d[2];\nh a;\ncx a, d;\nx b[0];\nbarrier a, b;\nmeasure a -> c[0];`.replace(
        'measure a -> c[0];',
        'measure b[0] -> c[2];',
      ),
    );
    expect(r.circuit.qubits).toBe(5);
    expect(r.qregs).toEqual([
      { name: 'a', size: 2, offset: 0 },
      { name: 'b', size: 1, offset: 2 },
      { name: 'd', size: 2, offset: 3 },
    ]);
    const ops = r.circuit.ops as GateOp[];
    expect(ops.map((o) => `${o.gate}:${o.wires.join(',')}`)).toEqual([
      'H:0',
      'H:1',
      'CNOT:0,3',
      'CNOT:1,4',
      'X:2',
    ]);
    expect(r.measurements).toEqual([{ wire: 2, creg: 'c', bit: 2 }]);
  });

  it('evaluates angle expressions', () => {
    const cases: [string, number][] = [
      ['pi', Math.PI],
      ['-pi/2', -Math.PI / 2],
      ['3*pi/4', (3 * Math.PI) / 4],
      ['1e-3', 1e-3],
      ['.5', 0.5],
      ['2.5E+1 - 4', 21],
      ['-(1 + 2) * 3', -9],
      ['2^3^2', 512],
      ['- -1', 1],
      ['sin(pi/6) + cos(0)', Math.sin(Math.PI / 6) + 1],
      ['sqrt(2) * exp(1) / ln(10)', (Math.SQRT2 * Math.E) / Math.LN10],
      ['1 - 2 - 3', -4],
      ['8 / 4 / 2', 1],
    ];
    for (const [text, value] of cases) {
      const r = parseQasm(`${HEAD}qreg q[1];\nrx(${text}) q[0];`);
      const a = (r.circuit.ops[0] as GateOp).angles[0];
      expect(a.kind).toBe('const');
      expect(a.kind === 'const' ? a.value : NaN, text).toBeCloseTo(value, 14);
    }
  });

  it('expands user gate definitions with parameters, nested', () => {
    const src = `${HEAD}gate layer(a, b) x, y { ry(a/2) x; rz(-b) y; cx x, y; }\ngate two(t) p, q { layer(t, 2*t) q, p; barrier p, q; h p; }\nqreg q[2];\ntwo(0.4) q[0], q[1];`;
    const r = parseQasm(src);
    const ops = r.circuit.ops as GateOp[];
    expect(ops.map((o) => `${o.gate}:${o.wires.join(',')}`)).toEqual(['RY:1', 'RZ:0', 'CNOT:1,0', 'H:0']);
    expect(ops[0].angles[0]).toEqual({ kind: 'const', value: 0.2 });
    expect(ops[1].angles[0]).toEqual({ kind: 'const', value: -0.8 });
  });

  it('trainable mode: every angle argument is a parameter in order of appearance (u3 counts three)', () => {
    const src = `${HEAD}gate g(a) x { rz(2*a) x; ry(pi/2) x; }\nqreg q[2];\nrx(0.1) q[0];\nu3(0.2, 0.3, -0.4) q[1];\nh q;\ng(0.5) q[1];\ncrz(pi/3) q[0], q[1];\nrz(0.7) q;`;
    const r = parseQasm(src, { trainable: true });
    expect(r.params).toEqual([0.1, 0.2, 0.3, -0.4, 0.5, Math.PI / 3, 0.7]);
    expect(r.circuit.numParams).toBe(7);
    const ops = r.circuit.ops as GateOp[];
    expect(ops[1].angles).toEqual([
      { kind: 'param', index: 1 },
      { kind: 'param', index: 2 },
      { kind: 'param', index: 3 },
    ]);
    // inside a definition: scale of the argument; constants stay constants
    expect(ops[4].angles[0]).toEqual({ kind: 'param', index: 4, scale: 2 });
    expect(ops[5].angles[0]).toEqual({ kind: 'const', value: Math.PI / 2 });
    // broadcast over a register shares one argument
    expect(ops[7].angles[0]).toEqual({ kind: 'param', index: 6 });
    expect(ops[8].angles[0]).toEqual({ kind: 'param', index: 6 });
    // the same state as the constant import
    const plain = parseQasm(src);
    expect(overlap(denseState(plain.circuit), denseState(r.circuit, r.params))).toBeCloseTo(1, 12);
  });

  it('trainable mode rejects definitions that are not a multiple of one argument', () => {
    const src = `${HEAD}gate g(a) x { rz(a + 1) x; }\nqreg q[1];\ng(0.5) q[0];`;
    expect(() => parseQasm(src, { trainable: true })).toThrow(
      /^line 3, column 15: an angle of 'rz' is not a multiple.*\(called at line 5, column 1\)$/,
    );
    expect(() => parseQasm(src)).not.toThrow();
  });
});

describe('OpenQASM errors name the line and column', () => {
  const cases: [string, RegExp][] = [
    [`${HEAD}qreg q[2];\nh q[0];\nfoo q[1];`, /^line 5, column 1: unknown gate 'foo'$/],
    [`${HEAD}qreg q[2];\nh q[2];`, /^line 4, column 3: index 2 out of range for q\[2\]$/],
    [`${HEAD}qreg q[2];\nrx q[0];`, /^line 4, column 1: 'rx' takes 1 angle argument\(s\), got 0$/],
    [`${HEAD}qreg q[2];\ncx q[0];`, /^line 4, column 1: 'cx' acts on 2 qubit\(s\), got 1$/],
    [`${HEAD}qreg q[2];\nh q[0]`, /^line 4, column 7: expected ';', found end of file$/],
    [`${HEAD}qreg q[2];\nh r[0];`, /^line 4, column 3: unknown qreg 'r'$/],
    [`${HEAD}qreg q[2];\nrx(theta) q[0];`, /^line 4, column 4: unknown identifier 'theta'/],
    [`${HEAD}qreg q[2];\ncx q[1], q[1];`, /^line 4, column 1: 'cx' uses the same qubit twice$/],
    [`${HEAD}qreg q[2];\nqreg r[3];\ncx q, r;`, /^line 5, column 7: registers of different sizes/],
    ['OPENQASM 3.0;\nqubit q;', /^line 1, column 10: only OpenQASM 2.0 is supported/],
    [`OPENQASM 2.0;\ninclude "stdgates.inc";`, /^line 2, column 9: cannot include 'stdgates.inc'/],
    [`${HEAD}qreg q[1];\nreset q[0];`, /^line 4, column 1: reset is not supported/],
    [`${HEAD}qreg q[1];\n  rx(1 +) q[0];`, /^line 4, column 9: expected an angle expression, found '\)'$/],
    [`${HEAD}qreg q[1];\nrx(1/0) q[0];`, /^line 4, column 5: division by zero$/],
    [`${HEAD}qreg q[1];\nh q[0]; $`, /^line 4, column 9: unexpected character '\$'$/],
    [`${HEAD}gate g a { h b; }\nqreg q[1];`, /^line 3, column 14: unknown qubit 'b' in gate 'g'$/],
    [`${HEAD}h q[0];`, /^line 3, column 3: unknown qreg 'q'$/],
    [`${HEAD}creg c[1];`, /no qreg declared/],
  ];
  for (const [src, re] of cases)
    it(re.source, () => {
      let err: unknown;
      try {
        parseQasm(src);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QasmError);
      expect((err as Error).message).toMatch(re);
    });
});

describe('OpenQASM export', () => {
  it('formats angles so they parse back exactly', () => {
    for (const x of [
      0,
      Math.PI,
      -Math.PI / 2,
      (3 * Math.PI) / 4,
      0.1,
      -1e-7,
      1 / 3,
      123.456,
      Math.PI / 16,
      5e300,
    ])
      expect(Number.isFinite(x) && eval2(formatAngle(x))).toBe(x);
    expect(formatAngle(Math.PI / 2)).toBe('pi/2');
    expect(formatAngle((-3 * Math.PI) / 4)).toBe('-3*pi/4');
  });

  it('round trip of a circuit with every record gate gives the same state', () => {
    const b = new CircuitBuilder(4, 2);
    let k = 0;
    const wireSets = [
      [1, 3, 0],
      [3, 0, 2],
      [2, 1, 3],
    ];
    for (const g of GATE_NAMES) {
      const spec = GATES[g];
      const angles = Array.from({ length: spec.angles }, (_, j) =>
        j === 0 && k % 3 === 0 ? b.p(0.5) : j === 1 && k % 3 === 1 ? b.x(k % 2, -1.5) : b.c(0.3 * k - 2 + j),
      );
      b.gate(g as GateName, wireSets[k % 3].slice(0, spec.wires), angles);
      k++;
    }
    const c = b.build();
    const params = Array.from({ length: c.numParams }, (_, i) => 0.37 * i - 1.1);
    const inputs = [0.9, -0.4];
    const text = toQasm(c, { params, inputs, measure: true });
    expect(text).toMatch(/^OPENQASM 2\.0;\ninclude "qelib1\.inc";\ngate ryy/);
    const back = parseQasm(text);
    expect(back.measurements).toHaveLength(4);
    expect(overlap(denseState(c, params, inputs), denseState(back.circuit))).toBeCloseTo(1, 12);
    // and trainable: the params returned reproduce the same state; export of that is a fixed point
    const tr = parseQasm(text, { trainable: true });
    expect(overlap(denseState(c, params, inputs), denseState(tr.circuit, tr.params))).toBeCloseTo(1, 12);
    // re-export is a fixed point after one trip (the first trip expands the ryy definition)
    const again = toQasm(tr.circuit, { params: tr.params, measure: true });
    expect(
      toQasm(parseQasm(again, { trainable: true }).circuit, {
        params: parseQasm(again, { trainable: true }).params,
        measure: true,
      }),
    ).toBe(again);
  });

  it('rejects what QASM 2.0 cannot say, naming the field', () => {
    const amp = new CircuitBuilder(2).amplitude([0, 1], 0, 4).build();
    expect(() => toQasm(amp)).toThrow(/^ops\[0\]: amplitude encoding/);
    const ib = new CircuitBuilder(1);
    const withInput = ib.gate('RX', [0], [ib.x(0)]).build();
    expect(() => toQasm(withInput)).toThrow(/^ops\[0\]\.angles\[0\]: an input angle needs/);
    const pb = new CircuitBuilder(1);
    const withParam = pb.gate('RX', [0], [pb.p()]).build();
    expect(() => toQasm(withParam)).toThrow(/^params:/);
  });
});

/** Evaluates an exported angle by importing it. */
function eval2(text: string): number {
  const r = parseQasm(`${HEAD}qreg q[1];\nrx(${text}) q[0];`);
  const a = (r.circuit.ops[0] as GateOp).angles[0];
  return a.kind === 'const' ? a.value : NaN;
}
