// Issue 13: the packaged app's Electron fuses, as electron-builder.yml asks for them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const yml = readFileSync(fileURLToPath(new URL('../../../electron-builder.yml', import.meta.url)), 'utf8');

/** The `key: value` lines of one top-level block (two-space indented), booleans as booleans. */
function block(name: string): Record<string, unknown> {
  const m = new RegExp(`^${name}:\\n((?: {2}.*\\n)+)`, 'm').exec(yml);
  if (!m) return {};
  return Object.fromEntries(
    m[1]
      .trimEnd()
      .split('\n')
      .map((l) => l.trim().split(/:\s*/))
      .map(([k, v]) => [k, v === 'true' ? true : v === 'false' ? false : v]),
  );
}

describe('electron-builder.yml', () => {
  it('turns RunAsNode, NODE_OPTIONS and inspect off, cookie encryption, asar integrity and asar-only on', () => {
    expect(yml).toMatch(/^asar: true$/m);
    expect(block('electronFuses')).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });
});
