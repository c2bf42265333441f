import { describe, expect, it } from 'vitest';
import { ThemeState } from '../../../renderer/src/state/theme.svelte';

describe('ThemeState', () => {
  it('follows the system by default, applies and remembers a choice', () => {
    const doc = { documentElement: { dataset: {} as Record<string, string | undefined> } };
    const saved = new Map<string, string>();
    const storage = {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => void saved.set(k, v),
    };
    const t = new ThemeState(doc, storage);
    expect(t.choice).toBe('system');
    expect(doc.documentElement.dataset.theme).toBeUndefined();
    t.set('dark');
    expect(doc.documentElement.dataset.theme).toBe('dark');
    const again = new ThemeState(doc, storage);
    expect(again.choice).toBe('dark');
    again.set('system');
    expect(doc.documentElement.dataset.theme).toBeUndefined();
  });
});
