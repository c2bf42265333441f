// Issue 13, "honest provenance": "-dirty" comes from the source files that matter, not install by-products.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeVersionAt } from '../../../core/lab/host';

const root = mkdtempSync(join(tmpdir(), 'qlab-host-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('codeVersion', () => {
  it('is clean after package-lock.json or docs change, dirty after a source file changes', () => {
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], {
        cwd: root,
        encoding: 'utf8',
      });
    writeFileSync(join(root, 'package.json'), '{"name":"qlab","version":"1.2.3"}');
    writeFileSync(join(root, 'package-lock.json'), '{}');
    mkdirSync(join(root, 'core'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'core', 'a.ts'), 'export {};\n');
    writeFileSync(join(root, 'docs', 'x.md'), '# x\n');
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
    expect(codeVersionAt(root)).toMatch(/^qlab@1\.2\.3\+[0-9a-f]{12}$/);
    writeFileSync(
      join(root, 'package-lock.json'),
      '{"packages":{"node_modules/@rollup/rollup-darwin-x64":{}}}',
    );
    writeFileSync(join(root, 'docs', 'x.md'), '# y\n');
    expect(codeVersionAt(root)).not.toMatch(/-dirty$/);
    writeFileSync(join(root, 'core', 'a.ts'), 'export const x = 1;\n');
    expect(codeVersionAt(root)).toMatch(/-dirty$/);
  });
});
