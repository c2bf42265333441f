// OpenQASM 2.0 import and export for the circuit record (docs/circuit-format.md).
// Import flattens every qreg into one wire list in declaration order, expands user `gate`
// definitions, and can turn every angle argument in the file into a trainable parameter (the
// `qlab sim --grad` contract: gradients per angle argument, in order of appearance).
// Global phases are ignored throughout (qelib1's rz and u1 differ by one; the record uses RZ = e^{-iθZ/2}).
import { stripBom } from '../util/text';
import {
  GATES,
  MAX_QUBITS,
  parseCircuit,
  type Angle,
  type Circuit,
  type GateName,
  type GateOp,
  type Operation,
} from './circuit';

export class QasmError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
    this.name = 'QasmError';
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'id' | 'num' | 'str' | 'sym' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  line: number;
  col: number;
}

/** Gates a file may expand to (after broadcasting and gate definitions), counted before they are built. */
export const MAX_QASM_GATES = 1_000_000;
/** Gate applications, definitions' bodies included, expanded before giving up (bounds empty-body blow-ups). */
const MAX_QASM_EXPANSIONS = 4_000_000;
/** Nesting of parentheses, unary signs and functions in one angle expression, and its size in nodes. */
export const MAX_QASM_EXPR_DEPTH = 200;
const MAX_QASM_EXPR_NODES = 2_000;
/** Classical bits over all cregs. */
const MAX_QASM_CLBITS = 1 << 20;

const SYMBOLS = ['->', '==', ';', ',', '(', ')', '[', ']', '{', '}', '+', '-', '*', '/', '^'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = src.length;
  while (i < n) {
    const ch = src[i];
    if (ch === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    if (ch === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new QasmError('unterminated /* comment', line, col);
      for (let k = i; k < end; k++)
        if (src[k] === '\n') {
          line++;
          lineStart = k + 1;
        }
      i = end + 2;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j])) j++;
      out.push({ kind: 'id', text: src.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (/[0-9.]/.test(ch)) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
      if (!m) throw new QasmError(`unexpected character '${ch}'`, line, col);
      out.push({ kind: 'num', text: m[0], line, col });
      i += m[0].length;
      continue;
    }
    if (ch === '"') {
      const end = src.indexOf('"', i + 1);
      if (end < 0 || src.slice(i, end).includes('\n')) throw new QasmError('unterminated string', line, col);
      out.push({ kind: 'str', text: src.slice(i + 1, end), line, col });
      i = end + 1;
      continue;
    }
    const sym = SYMBOLS.find((s) => src.startsWith(s, i));
    if (!sym) throw new QasmError(`unexpected character '${ch}'`, line, col);
    out.push({ kind: 'sym', text: sym, line, col });
    i += sym.length;
  }
  out.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Angle expressions, evaluated to affine forms c + Σ_k coeff_k·θ_k over the file's angle arguments
// (in plain mode every form is a constant).

type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'id'; name: string; tok: Token }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '^'; a: Expr; b: Expr; tok: Token }
  | { kind: 'call'; fn: string; arg: Expr; tok: Token };

interface Affine {
  c: number;
  terms: Map<number, number>;
}

const FUNCTIONS: Record<string, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  exp: Math.exp,
  ln: Math.log,
  sqrt: Math.sqrt,
};

const constant = (c: number): Affine => ({ c, terms: new Map() });
const isConst = (a: Affine): boolean => a.terms.size === 0;

function scaleAffine(a: Affine, s: number): Affine {
  const terms = new Map<number, number>();
  for (const [k, v] of a.terms) terms.set(k, v * s);
  return { c: a.c * s, terms };
}

function addAffine(a: Affine, b: Affine, sign: 1 | -1): Affine {
  const terms = new Map(a.terms);
  for (const [k, v] of b.terms) {
    const s = (terms.get(k) ?? 0) + sign * v;
    if (s === 0) terms.delete(k);
    else terms.set(k, s);
  }
  return { c: a.c + sign * b.c, terms };
}

function evalExpr(e: Expr, env: ReadonlyMap<string, Affine>): Affine {
  switch (e.kind) {
    case 'num':
      return constant(e.value);
    case 'id': {
      if (e.name === 'pi') return constant(Math.PI);
      const v = env.get(e.name);
      if (!v)
        throw new QasmError(`unknown identifier '${e.name}' in angle expression`, e.tok.line, e.tok.col);
      return v;
    }
    case 'neg':
      return scaleAffine(evalExpr(e.arg, env), -1);
    case 'call': {
      const x = evalExpr(e.arg, env);
      if (!isConst(x))
        throw new QasmError(
          `${e.fn}() of a trainable angle is not linear; import without trainable angles`,
          e.tok.line,
          e.tok.col,
        );
      return constant(FUNCTIONS[e.fn](x.c));
    }
    case 'bin': {
      const a = evalExpr(e.a, env);
      const b = evalExpr(e.b, env);
      const nonlinear = (): never => {
        throw new QasmError(
          `'${e.op}' between trainable angles is not linear; import without trainable angles`,
          e.tok.line,
          e.tok.col,
        );
      };
      switch (e.op) {
        case '+':
          return addAffine(a, b, 1);
        case '-':
          return addAffine(a, b, -1);
        case '*':
          if (isConst(a)) return scaleAffine(b, a.c);
          if (isConst(b)) return scaleAffine(a, b.c);
          return nonlinear();
        case '/':
          if (!isConst(b)) return nonlinear();
          if (b.c === 0) throw new QasmError('division by zero', e.tok.line, e.tok.col);
          return scaleAffine(a, 1 / b.c);
        case '^':
          if (!isConst(a) || !isConst(b)) return nonlinear();
          return constant(Math.pow(a.c, b.c));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The built-in gate set: qelib1.inc plus a few common extensions, mapped to record gates.

interface Builtin {
  gate: GateName;
  params: number;
  qubits: number;
}

const BUILTINS: Record<string, Builtin> = {};
function builtin(names: string[], gate: GateName): void {
  for (const name of names) BUILTINS[name] = { gate, params: GATES[gate].angles, qubits: GATES[gate].wires };
}
builtin(['U', 'u3', 'u'], 'U3');
builtin(['u2'], 'U2');
builtin(['u1'], 'U1');
builtin(['p'], 'PhaseShift');
builtin(['CX', 'cx', 'cnot'], 'CNOT');
builtin(['id'], 'I');
builtin(['x'], 'X');
builtin(['y'], 'Y');
builtin(['z'], 'Z');
builtin(['h'], 'H');
builtin(['s'], 'S');
builtin(['sdg'], 'Sdg');
builtin(['t'], 'T');
builtin(['tdg'], 'Tdg');
builtin(['sx'], 'SX');
builtin(['rx'], 'RX');
builtin(['ry'], 'RY');
builtin(['rz'], 'RZ');
builtin(['cz'], 'CZ');
builtin(['cy'], 'CY');
builtin(['ch'], 'CH');
builtin(['swap'], 'SWAP');
builtin(['crx'], 'CRX');
builtin(['cry'], 'CRY');
builtin(['crz'], 'CRZ');
builtin(['cu1', 'cp', 'cphase'], 'CPhase');
builtin(['cu3'], 'CU3');
builtin(['rxx'], 'RXX');
builtin(['ryy'], 'RYY');
builtin(['rzz'], 'RZZ');
builtin(['ccx', 'toffoli'], 'Toffoli');

/** Gates of qelib1.inc with no record gate of their own, defined here in QASM as qelib1 does. */
const PRELUDE = `
gate cswap a,b,c { cx c,b; ccx a,b,c; cx c,b; }
gate rot(phi,theta,omega) a { rz(phi) a; ry(theta) a; rz(omega) a; }
`;

interface GateDef {
  name: string;
  params: string[];
  qubits: string[];
  body: GateCall[];
  /** Gates one application expands to, and gate applications it takes (known at definition: bounded up front). */
  gates?: number;
  cost?: number;
}

interface GateCall {
  name: string;
  tok: Token;
  args: Expr[];
  /** Formal qubit names (inside a definition) or resolved operands (at top level). */
  qargs: QArg[];
}

interface QArg {
  reg: string;
  /** Index into the register, or undefined for the whole register. */
  index?: number;
  tok: Token;
}

export interface QasmRegister {
  name: string;
  size: number;
  /** First wire of this register in the flattened circuit. */
  offset: number;
}

export interface QasmMeasurement {
  wire: number;
  creg: string;
  bit: number;
}

export interface QasmImportOptions {
  /**
   * Every angle argument written in the file becomes trainable parameter k (k counted in order of
   * appearance; u3 counts three), its value returned in `params`. Default false: angles are constants.
   */
  trainable?: boolean;
}

export interface QasmImport {
  circuit: Circuit;
  /** Parameter values (trainable mode; empty otherwise). */
  params: number[];
  qregs: QasmRegister[];
  cregs: QasmRegister[];
  /** `measure` statements, accepted and recorded; the simulator reports probabilities of all wires. */
  measurements: QasmMeasurement[];
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  peek(offset = 0): Token {
    return this.toks[Math.min(this.pos + offset, this.toks.length - 1)];
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  fail(tok: Token, message: string): never {
    throw new QasmError(message, tok.line, tok.col);
  }
  describe(t: Token): string {
    return t.kind === 'eof' ? 'end of file' : `'${t.text}'`;
  }
  expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || t.kind === 'str') this.fail(t, `expected '${text}', found ${this.describe(t)}`);
    return t;
  }
  accept(text: string): boolean {
    const t = this.peek();
    if (t.kind === 'sym' && t.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }
  ident(what: string): Token {
    const t = this.next();
    if (t.kind !== 'id') this.fail(t, `expected ${what}, found ${this.describe(t)}`);
    return t;
  }
  integer(what: string): number {
    const t = this.next();
    if (t.kind !== 'num' || !/^\d+$/.test(t.text))
      this.fail(t, `expected ${what} (a non-negative integer), found ${this.describe(t)}`);
    return Number(t.text);
  }

  /** Parse recursion and nodes of the current expression (bounded: a file is not a stack-size test). */
  private exprDepth = 0;
  private exprNodes = 0;
  private enter(): void {
    const t = this.peek();
    if (++this.exprDepth > MAX_QASM_EXPR_DEPTH)
      this.fail(t, `angle expression nested more than ${MAX_QASM_EXPR_DEPTH} deep`);
    if (++this.exprNodes > MAX_QASM_EXPR_NODES)
      this.fail(t, `angle expression longer than ${MAX_QASM_EXPR_NODES} terms`);
  }

  // expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ; unary := '-' unary | '+' unary | power
  // power := atom ('^' unary)?
  expr(): Expr {
    const top = this.exprDepth === 0;
    if (top) this.exprNodes = 0;
    this.enter();
    try {
      return this.sum();
    } finally {
      this.exprDepth--;
    }
  }
  private sum(): Expr {
    let a = this.term();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'sym' && (t.text === '+' || t.text === '-')) {
        this.next();
        a = { kind: 'bin', op: t.text, a, b: this.term(), tok: t };
      } else return a;
    }
  }
  term(): Expr {
    let a = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'sym' && (t.text === '*' || t.text === '/')) {
        this.next();
        a = { kind: 'bin', op: t.text, a, b: this.unary(), tok: t };
      } else return a;
    }
  }
  unary(): Expr {
    this.enter();
    try {
      return this.signed();
    } finally {
      this.exprDepth--;
    }
  }
  private signed(): Expr {
    if (this.accept('-')) return { kind: 'neg', arg: this.unary() };
    if (this.accept('+')) return this.unary();
    const a = this.atom();
    const t = this.peek();
    if (t.kind === 'sym' && t.text === '^') {
      this.next();
      return { kind: 'bin', op: '^', a, b: this.unary(), tok: t };
    }
    return a;
  }
  atom(): Expr {
    const t = this.next();
    if (t.kind === 'num') return { kind: 'num', value: Number(t.text) };
    if (t.kind === 'id') {
      if (t.text in FUNCTIONS && this.peek().text === '(') {
        this.expect('(');
        const arg = this.expr();
        this.expect(')');
        return { kind: 'call', fn: t.text, arg, tok: t };
      }
      return { kind: 'id', name: t.text, tok: t };
    }
    if (t.kind === 'sym' && t.text === '(') {
      const e = this.expr();
      this.expect(')');
      return e;
    }
    return this.fail(t, `expected an angle expression, found ${this.describe(t)}`);
  }

  /** `(e, e, …)` if present. */
  args(): Expr[] {
    const out: Expr[] = [];
    if (!this.accept('(')) return out;
    if (this.accept(')')) return out;
    do out.push(this.expr());
    while (this.accept(','));
    this.expect(')');
    return out;
  }

  qarg(): QArg {
    const tok = this.ident('a qubit register');
    if (this.accept('[')) {
      const index = this.integer('an index');
      this.expect(']');
      return { reg: tok.text, index, tok };
    }
    return { reg: tok.text, tok };
  }

  qargs(): QArg[] {
    const out = [this.qarg()];
    while (this.accept(',')) out.push(this.qarg());
    return out;
  }
}

/** Parses OpenQASM 2.0 text into a circuit record. Throws QasmError naming line and column. */
export function parseQasm(text: string, options: QasmImportOptions = {}): QasmImport {
  const trainable = options.trainable ?? false;
  const defs = new Map<string, GateDef>();
  // The prelude is parsed with the same code, so its gates behave exactly like user definitions.
  runProgram(new Parser(tokenize(PRELUDE)), defs, null);
  // One rule for every text file the lab reads (core/util/text.ts): a leading byte-order mark is dropped.
  return runProgram(new Parser(tokenize(stripBom(text))), defs, { trainable });
}

function runProgram(p: Parser, defs: Map<string, GateDef>, top: { trainable: boolean } | null): QasmImport {
  const qregs: QasmRegister[] = [];
  const cregs: QasmRegister[] = [];
  const measurements: QasmMeasurement[] = [];
  const params: number[] = [];
  const ops: Operation[] = [];
  let wires = 0;
  let expansions = 0;

  const first = p.peek();
  // The specification requires the version header as the first statement (the built-in prelude has none).
  if (top && !(first.kind === 'id' && first.text === 'OPENQASM'))
    p.fail(first, "the file must start with 'OPENQASM 2.0;'");
  if (first.kind === 'id' && first.text === 'OPENQASM') {
    p.next();
    const v = p.next();
    if (v.kind !== 'num' || !v.text.startsWith('2'))
      p.fail(v, `only OpenQASM 2.0 is supported, found version ${p.describe(v)}`);
    p.expect(';');
  }

  const findReg = (list: QasmRegister[], q: QArg, what: string): QasmRegister => {
    const r = list.find((x) => x.name === q.reg);
    if (!r) p.fail(q.tok, `unknown ${what} '${q.reg}'`);
    if (q.index !== undefined && q.index >= r.size)
      p.fail(q.tok, `index ${q.index} out of range for ${q.reg}[${r.size}]`);
    return r;
  };

  /** Resolves operands with register broadcasting: returns one wire list per application. */
  const resolve = (call: GateCall): number[][] => {
    let reps = 1;
    for (const q of call.qargs) {
      const r = findReg(qregs, q, 'qreg');
      if (q.index === undefined) {
        if (reps !== 1 && reps !== r.size)
          p.fail(q.tok, `registers of different sizes (${reps} and ${r.size}) in one gate`);
        reps = r.size;
      }
    }
    const apps: number[][] = [];
    for (let k = 0; k < reps; k++) {
      const ws = call.qargs.map((q) => {
        const r = findReg(qregs, q, 'qreg');
        return r.offset + (q.index ?? k);
      });
      if (new Set(ws).size !== ws.length) p.fail(call.tok, `'${call.name}' uses the same qubit twice`);
      apps.push(ws);
    }
    return apps;
  };

  const toAngle = (a: Affine, tok: Token, name: string, site: Token): Angle => {
    if (isConst(a)) return { kind: 'const', value: a.c };
    if (a.terms.size === 1 && a.c === 0) {
      const [[index, scale]] = [...a.terms];
      return scale === 1 ? { kind: 'param', index } : { kind: 'param', index, scale };
    }
    return p.fail(
      tok,
      `an angle of '${name}' is not a multiple of one trainable argument (it has an offset or mixes arguments); import without trainable angles` +
        (site === tok ? '' : ` (called at line ${site.line}, column ${site.col})`),
    );
  };

  /** Emits a gate (builtin or defined) on concrete wires with affine angle values. */
  const emit = (
    name: string,
    tok: Token,
    angles: Affine[],
    ws: number[],
    site: Token,
    depth: number,
  ): void => {
    if (++expansions > MAX_QASM_EXPANSIONS)
      p.fail(site, `the program expands to more than ${MAX_QASM_EXPANSIONS} gate applications`);
    const def = defs.get(name);
    if (def) {
      if (depth > 64) p.fail(tok, `gate definitions nested too deeply at '${name}'`);
      const env = new Map<string, Affine>(def.params.map((nm, i) => [nm, angles[i]]));
      const qmap = new Map<string, number>(def.qubits.map((nm, i) => [nm, ws[i]]));
      for (const c of def.body)
        emit(
          c.name,
          c.tok,
          c.args.map((e) => evalExpr(e, env)),
          c.qargs.map((q) => qmap.get(q.reg) as number),
          site,
          depth + 1,
        );
      return;
    }
    if (ops.length >= MAX_QASM_GATES)
      p.fail(site, `the program expands to more than ${MAX_QASM_GATES} gates (at '${name}')`);
    const b = BUILTINS[name];
    const op: GateOp = {
      type: 'gate',
      gate: b.gate,
      wires: ws,
      angles: angles.map((a) => toAngle(a, tok, name, site)),
    };
    ops.push(op);
  };

  const arity = (call: GateCall): { params: number; qubits: number } => {
    const def = defs.get(call.name);
    const spec = def ? { params: def.params.length, qubits: def.qubits.length } : BUILTINS[call.name];
    if (!spec) p.fail(call.tok, `unknown gate '${call.name}'`);
    if (call.args.length !== spec.params)
      p.fail(call.tok, `'${call.name}' takes ${spec.params} angle argument(s), got ${call.args.length}`);
    if (call.qargs.length !== spec.qubits)
      p.fail(call.tok, `'${call.name}' acts on ${spec.qubits} qubit(s), got ${call.qargs.length}`);
    return spec;
  };

  for (;;) {
    const t = p.peek();
    if (t.kind === 'eof') break;
    if (t.kind !== 'id') p.fail(t, `expected a statement, found ${p.describe(t)}`);
    switch (t.text) {
      case 'OPENQASM':
        p.fail(t, 'OPENQASM must be the first statement');
        break;
      case 'include': {
        p.next();
        const f = p.next();
        if (f.kind !== 'str') p.fail(f, `expected a file name in quotes, found ${p.describe(f)}`);
        if (f.text !== 'qelib1.inc') p.fail(f, `cannot include '${f.text}': only qelib1.inc is built in`);
        p.expect(';');
        break;
      }
      case 'qreg':
      case 'creg': {
        p.next();
        const name = p.ident('a register name');
        p.expect('[');
        const size = p.integer('a register size');
        p.expect(']');
        p.expect(';');
        if (size < 1) p.fail(name, `register '${name.text}' must have at least one bit`);
        // Bounded before anything is sized by it: a 45-byte file must not declare a billion qubits.
        if (t.text === 'qreg' && wires + size > MAX_QUBITS)
          p.fail(
            name,
            `qreg '${name.text}[${size}]' makes ${wires + size} qubits; the simulator takes at most ${MAX_QUBITS}`,
          );
        if (t.text === 'creg' && cregs.reduce((s, r) => s + r.size, 0) + size > MAX_QASM_CLBITS)
          p.fail(name, `creg '${name.text}[${size}]' makes more than ${MAX_QASM_CLBITS} classical bits`);
        if (qregs.some((r) => r.name === name.text) || cregs.some((r) => r.name === name.text))
          p.fail(name, `register '${name.text}' is already declared`);
        if (t.text === 'qreg') {
          qregs.push({ name: name.text, size, offset: wires });
          wires += size;
        } else cregs.push({ name: name.text, size, offset: cregs.reduce((s, r) => s + r.size, 0) });
        break;
      }
      case 'gate': {
        p.next();
        const name = p.ident('a gate name');
        const formals: string[] = [];
        if (p.accept('(')) {
          if (!p.accept(')')) {
            do formals.push(p.ident('a parameter name').text);
            while (p.accept(','));
            p.expect(')');
          }
        }
        const qubits: string[] = [];
        do qubits.push(p.ident('a qubit name').text);
        while (p.accept(','));
        if (new Set(qubits).size !== qubits.length) p.fail(name, `gate '${name.text}' repeats a qubit name`);
        p.expect('{');
        const body: GateCall[] = [];
        while (!p.accept('}')) {
          const ct = p.ident('a gate in the body');
          if (ct.text === 'barrier') {
            p.qargs();
            p.expect(';');
            continue;
          }
          const call: GateCall = { name: ct.text, tok: ct, args: p.args(), qargs: p.qargs() };
          p.expect(';');
          arity(call);
          for (const q of call.qargs) {
            if (q.index !== undefined) p.fail(q.tok, 'qubits inside a gate body cannot be indexed');
            if (!qubits.includes(q.reg)) p.fail(q.tok, `unknown qubit '${q.reg}' in gate '${name.text}'`);
          }
          if (new Set(call.qargs.map((q) => q.reg)).size !== call.qargs.length)
            p.fail(ct, `'${ct.text}' uses the same qubit twice`);
          // Checks identifiers now so errors point at the definition; values do not matter here.
          const env = new Map(formals.map((f) => [f, constant(0)]));
          for (const e of call.args) evalExpr(e, env);
          body.push(call);
        }
        let gates = 0;
        let cost = 1;
        for (const c of body) {
          const d = defs.get(c.name);
          gates += d ? (d.gates ?? 0) : 1;
          cost += d ? (d.cost ?? 1) : 1;
        }
        defs.set(name.text, { name: name.text, params: formals, qubits, body, gates, cost });
        break;
      }
      case 'opaque':
        p.fail(t, "opaque gates are not supported: define the gate with 'gate'");
        break;
      case 'reset':
        p.fail(t, 'reset is not supported: the simulator runs unitary circuits');
        break;
      case 'if':
        p.fail(t, "classically controlled 'if' is not supported");
        break;
      case 'barrier': {
        p.next();
        for (const q of p.qargs()) findReg(qregs, q, 'qreg');
        p.expect(';');
        break;
      }
      case 'measure': {
        p.next();
        const q = p.qarg();
        p.expect('->');
        const c = p.qarg();
        p.expect(';');
        const qr = findReg(qregs, q, 'qreg');
        const cr = findReg(cregs, c, 'creg');
        if ((q.index === undefined) !== (c.index === undefined))
          p.fail(c.tok, 'measure a register into a register, or a bit into a bit');
        if (q.index === undefined && qr.size !== cr.size)
          p.fail(c.tok, `registers of different sizes (${qr.size} and ${cr.size}) in measure`);
        const count = q.index === undefined ? qr.size : 1;
        for (let k = 0; k < count; k++)
          measurements.push({ wire: qr.offset + (q.index ?? k), creg: cr.name, bit: c.index ?? k });
        break;
      }
      default: {
        const ct = p.next();
        const call: GateCall = { name: ct.text, tok: ct, args: p.args(), qargs: p.qargs() };
        p.expect(';');
        arity(call);
        const angles = call.args.map((e) => {
          const v = evalExpr(e, new Map());
          if (!Number.isFinite(v.c)) p.fail(ct, `an angle of '${ct.text}' is not a finite number`);
          if (!top?.trainable) return v;
          params.push(v.c);
          return { c: 0, terms: new Map([[params.length - 1, 1]]) };
        });
        const apps = resolve(call);
        const def = defs.get(call.name);
        const gates = apps.length * (def ? (def.gates ?? 0) : 1);
        const cost = apps.length * (def ? (def.cost ?? 1) : 1);
        if (ops.length + gates > MAX_QASM_GATES)
          p.fail(
            ct,
            `the program expands to more than ${MAX_QASM_GATES} gates (at '${ct.text}', ${gates} gates)`,
          );
        if (expansions + cost > MAX_QASM_EXPANSIONS)
          p.fail(
            ct,
            `the program expands to more than ${MAX_QASM_EXPANSIONS} gate applications (at '${ct.text}')`,
          );
        for (const ws of apps) emit(call.name, ct, angles, ws, ct, 0);
      }
    }
  }
  if (top && wires === 0) p.fail(p.peek(), 'no qreg declared');
  const circuit =
    top === null
      ? parseCircuit({ qubits: 1, ops: [] })
      : parseCircuit({ qubits: wires, numParams: params.length, numInputs: 0, ops });
  return { circuit, params, qregs, cregs, measurements };
}

// ---------------------------------------------------------------------------------------------
// Export

const EXPORT_NAMES: Partial<Record<GateName, string>> = {
  I: 'id',
  X: 'x',
  Y: 'y',
  Z: 'z',
  H: 'h',
  S: 's',
  Sdg: 'sdg',
  T: 't',
  Tdg: 'tdg',
  SX: 'sx',
  RX: 'rx',
  RY: 'ry',
  RZ: 'rz',
  PhaseShift: 'u1',
  U1: 'u1',
  U2: 'u2',
  U3: 'u3',
  CNOT: 'cx',
  CY: 'cy',
  CZ: 'cz',
  CH: 'ch',
  SWAP: 'swap',
  CRX: 'crx',
  CRY: 'cry',
  CRZ: 'crz',
  CPhase: 'cu1',
  CU3: 'cu3',
  RXX: 'rxx',
  RYY: 'ryy',
  RZZ: 'rzz',
  Toffoli: 'ccx',
};

/** ryy is not in qelib1.inc, so an exported file defines it (as Qiskit does) to stay portable. */
const RYY_DEF =
  'gate ryy(theta) a,b { rx(pi/2) a; rx(pi/2) b; cx a,b; rz(theta) b; cx a,b; rx(-pi/2) a; rx(-pi/2) b; }';

/** Shortest text that parses back to exactly x: a multiple of pi where one fits exactly, else the shortest decimal. */
export function formatAngle(x: number): string {
  if (x === 0) return '0';
  for (let d = 1; d <= 16; d++) {
    const n = Math.round((x * d) / Math.PI);
    if (n === 0 || Math.abs(n) > 64) continue;
    if ((Math.PI * Math.abs(n)) / d === Math.abs(x)) {
      const sign = x < 0 ? '-' : '';
      const num = Math.abs(n) === 1 ? 'pi' : `${Math.abs(n)}*pi`;
      return d === 1 ? `${sign}${num}` : `${sign}${num}/${d}`;
    }
  }
  return String(x);
}

export interface QasmExportOptions {
  /** θ, required when the circuit has trainable angles. */
  params?: ArrayLike<number>;
  /** One row of input features, required when the circuit has input angles. */
  inputs?: ArrayLike<number>;
  /** Append `creg c[n]; measure q -> c;`. */
  measure?: boolean;
}

/** Writes the circuit as OpenQASM 2.0 with angles evaluated to numbers (one register `q`). */
export function toQasm(circuit: Circuit, options: QasmExportOptions = {}): string {
  const params = options.params ?? [];
  const inputs = options.inputs ?? [];
  if (params.length < circuit.numParams)
    throw new Error(
      `params: the circuit has ${circuit.numParams} parameter(s), got ${params.length} value(s)`,
    );
  const lines: string[] = [];
  const angleText = (a: Angle, field: string): string => {
    let v: number;
    if (a.kind === 'const') v = a.value;
    else if (a.kind === 'param') v = (a.scale ?? 1) * params[a.index];
    else {
      if (inputs.length < circuit.numInputs)
        throw new Error(
          `${field}: an input angle needs an inputs row of ${circuit.numInputs} value(s) to export`,
        );
      v = (a.scale ?? 1) * inputs[a.index];
    }
    if (!Number.isFinite(v)) throw new Error(`${field}: angle is not finite`);
    return formatAngle(v);
  };
  let usesRyy = false;
  circuit.ops.forEach((op, i) => {
    if (op.type === 'amplitude') throw new Error(`ops[${i}]: amplitude encoding has no OpenQASM 2.0 form`);
    const q = op.wires.map((w) => `q[${w}]`).join(',');
    const angles = op.angles.map((a, j) => angleText(a, `ops[${i}].angles[${j}]`));
    if (op.gate === 'Rot') {
      // Rot(φ,θ,ω) = RZ(ω)·RY(θ)·RZ(φ): written out so the file needs no custom gate.
      lines.push(`rz(${angles[0]}) ${q};`, `ry(${angles[1]}) ${q};`, `rz(${angles[2]}) ${q};`);
      return;
    }
    if (op.gate === 'RYY') usesRyy = true;
    const name = EXPORT_NAMES[op.gate] as string;
    lines.push(`${name}${angles.length ? `(${angles.join(',')})` : ''} ${q};`);
  });
  const head = ['OPENQASM 2.0;', 'include "qelib1.inc";'];
  if (usesRyy) head.push(RYY_DEF);
  head.push(`qreg q[${circuit.qubits}];`);
  if (options.measure) {
    head.push(`creg c[${circuit.qubits}];`);
    lines.push('measure q -> c;');
  }
  return [...head, ...lines, ''].join('\n');
}
