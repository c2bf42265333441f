// Helpers for the interop tests; the dense reference simulator is test/helpers/quantum.ts's denseState.

/** |⟨a|b⟩|, which is 1 exactly when the states agree up to a global phase. */
export function overlap(a: Float64Array, b: Float64Array): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < a.length; i += 2) {
    re += a[i] * b[i] + a[i + 1] * b[i + 1];
    im += a[i] * b[i + 1] - a[i + 1] * b[i];
  }
  return Math.hypot(re, im);
}

/** Random state preparation prefix so gates act on a generic state, not just |0…0⟩. */
export function randomPrefix(qubits: number, seed: number): string {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296) * 6 - 3;
  };
  const lines: string[] = [];
  for (let w = 0; w < qubits; w++) lines.push(`u3(${rnd()},${rnd()},${rnd()}) q[${w}];`);
  for (let w = 0; w + 1 < qubits; w++) lines.push(`cx q[${w}],q[${w + 1}];`);
  for (let w = 0; w < qubits; w++) lines.push(`u3(${rnd()},${rnd()},${rnd()}) q[${w}];`);
  return lines.join('\n');
}
