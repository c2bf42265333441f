import { describe, expect, it } from 'vitest';
import { intOption, parseArgs, type CommandSpec } from '../../../core/cli/args';
import { CliError } from '../../../core/cli/errors';

const spec: CommandSpec = {
  name: 'demo',
  options: {
    'lab-dir': { type: 'string' },
    tag: { type: 'list' },
    json: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
    port: { type: 'string' },
  },
  positionals: { min: 1, max: 2, label: 'one or two files' },
};

function fails(argv: string[], message: RegExp): void {
  let err: unknown;
  try {
    parseArgs(spec, argv);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CliError);
  expect((err as Error).message).toMatch(message);
}

describe('parseArgs', () => {
  it('reads positionals, values in both spellings, switches, repeated lists and short aliases', () => {
    const a = parseArgs(spec, [
      'x.json',
      '--lab-dir',
      'L',
      '--tag=a',
      '--json',
      '--tag',
      'b',
      '-o',
      'f.csv',
      'y',
    ]);
    expect(a.positionals).toEqual(['x.json', 'y']);
    expect(a.strings).toEqual({ 'lab-dir': 'L', out: 'f.csv' });
    expect(a.booleans).toEqual({ json: true });
    expect(a.lists).toEqual({ tag: ['a', 'b'] });
  });

  it('takes everything after -- as positionals, even if it looks like an option', () => {
    expect(parseArgs(spec, ['--', '--json']).positionals).toEqual(['--json']);
  });

  it('keeps an empty inline value (--name=) distinct from a missing one', () => {
    expect(parseArgs(spec, ['a', '--out=']).strings.out).toBe('');
    fails(['a', '--out'], /option --out needs a value/);
    fails(['a', '--out', '--json'], /option --out needs a value/);
  });

  it('refuses unknown options, values on switches, repeats of single values, and wrong positional counts', () => {
    fails(['a', '--frob'], /unknown option --frob for 'qlab demo'/);
    fails(['a', '-z'], /unknown option -z/);
    fails(['a', '--json=yes'], /--json takes no value/);
    fails(['a', '--out', 'x', '--out', 'y'], /--out given twice/);
    fails([], /'qlab demo' needs one or two files/);
    fails(['a', 'b', 'c'], /unexpected 'c'/);
  });

  it('checks integer options with their range', () => {
    const a = parseArgs(spec, ['a', '--port', '8080']);
    expect(intOption(a, 'port', 1, 0, 65535)).toBe(8080);
    expect(intOption(parseArgs(spec, ['a']), 'port', 5178, 0, 65535)).toBe(5178);
    expect(() => intOption(parseArgs(spec, ['a', '--port', '80x']), 'port', 1, 0, 65535)).toThrow(
      /--port must be an integer, got '80x'/,
    );
    expect(() => intOption(parseArgs(spec, ['a', '--port', '70000']), 'port', 1, 0, 65535)).toThrow(
      /between 0 and 65535, got 70000/,
    );
  });
});
