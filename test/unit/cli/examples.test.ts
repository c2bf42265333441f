// Every example config must be accepted as-is by `qlab run`: the envelope and the kind's own schema.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readRunFile } from '../../../core/cli/config-file';
import { getJobKind, listJobKinds } from '../../../core/methods/registry';

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('examples/*.json', () => {
  it('has one example per registered job kind', () => {
    const kinds = files.map((f) => readRunFile(dir + f).kind).sort();
    for (const k of listJobKinds()) expect(kinds).toContain(k.kind);
  });

  it.each(files)('%s validates against its kind, with no field left to a typo', (f) => {
    const req = readRunFile(dir + f);
    const kind = getJobKind(req.kind);
    expect(kind, `unknown kind ${req.kind}`).toBeDefined();
    const parsed = kind!.schema.safeParse(req.config);
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    // every field written in the example survives parsing (a strict schema would have refused unknown ones)
    // (nested objects may gain defaults, so they must contain what was written rather than equal it)
    for (const [k, v] of Object.entries(req.config as Record<string, unknown>)) {
      const got = (parsed.data as Record<string, unknown>)[k];
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) expect(got, k).toMatchObject(v);
      else expect(got, k).toEqual(v);
    }
  });
});
