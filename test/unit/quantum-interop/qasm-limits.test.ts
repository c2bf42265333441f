// Issue 13: oversized or hostile QASM refused before it is expanded, in well under a second, naming the line.
import { describe, expect, it } from 'vitest';
import { parseQasm, QasmError } from '../../../core/quantum/qasm';

const HEAD = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n';

function refusal(src: string): { error: QasmError; ms: number } {
  const t0 = performance.now();
  try {
    parseQasm(src);
  } catch (e) {
    return { error: e as QasmError, ms: performance.now() - t0 };
  }
  throw new Error('expected a refusal');
}

describe('QASM bounds', () => {
  it('refuses qreg q[1000000000] at its declaration, before expanding h q', () => {
    const heap = process.memoryUsage().heapUsed;
    const r = refusal(`${HEAD}qreg q[1000000000]; h q;`);
    expect(r.error).toBeInstanceOf(QasmError);
    expect(r.error.message).toMatch(/line 3.*at most 30/);
    expect(r.ms).toBeLessThan(200);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(50 * 2 ** 20);
    expect(refusal(`${HEAD}qreg q[3000000];\nh q;`).error.message).toContain('3000000');
    expect(refusal(`${HEAD}qreg a[20];\nqreg b[11];`).error.message).toMatch(/line 4.*31 qubits/);
  });

  it('bounds the expanded gate count of doubling gate definitions', () => {
    let src = `${HEAD}gate g0 a { h a; }\n`;
    for (let k = 1; k <= 40; k++) src += `gate g${k} a { g${k - 1} a; g${k - 1} a; }\n`;
    src += 'qreg q[1];\ng40 q[0];\n';
    const r = refusal(src);
    expect(r.error.message).toMatch(/more than 1000000 gates/);
    expect(r.error.line).toBe(45);
    expect(r.ms).toBeLessThan(1000);
    console.log(`doubling gates refused in ${r.ms.toFixed(0)} ms`);
    // Empty bodies allocate nothing but still take time: bounded too.
    let empty = `${HEAD}gate e0 a { }\n`;
    for (let k = 1; k <= 40; k++) empty += `gate e${k} a { e${k - 1} a; e${k - 1} a; }\n`;
    const e = refusal(`${empty}qreg q[1];\ne40 q[0];\n`);
    expect(e.error.message).toMatch(/gate applications/);
    expect(e.ms).toBeLessThan(1000);
    console.log(`empty doubling gates refused in ${e.ms.toFixed(0)} ms`);
  });

  it('refuses 100k parentheses and a 100k-term sum with a line, not a stack overflow', () => {
    const deep = refusal(`${HEAD}qreg q[1];\nrx(${'('.repeat(100_000)}1${')'.repeat(100_000)}) q[0];`);
    expect(deep.error).toBeInstanceOf(QasmError);
    expect(deep.error.message).toMatch(/line 4.*nested more than 200/);
    const long = refusal(`${HEAD}qreg q[1];\nrx(${Array(100_000).fill('1').join('+')}) q[0];`);
    expect(long.error.message).toMatch(/line 4.*longer than/);
  });

  it('requires the OPENQASM 2.0 header and accepts a byte-order mark (one rule for text files)', () => {
    expect(refusal('qreg q[1];\nh q[0];\n').error.message).toMatch(
      /line 1.*must start with 'OPENQASM 2\.0;'/,
    );
    expect(parseQasm(`\ufeff${HEAD}qreg q[1];\nh q[0];\n`).circuit.qubits).toBe(1);
  });
});
