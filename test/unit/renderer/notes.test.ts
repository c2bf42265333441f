// Notes on the run page: Markdown rendered safely (markdown-it, raw HTML off, only http(s)/mailto links, no
// images), line breaks kept; the page state edits and deletes notes and shows tag refusals beside the editor.
import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/api/lab-api';
import { renderNote } from '../../../renderer/src/lib/markdown';
import { RunPageState } from '../../../renderer/src/state/run-page.svelte';
import { FakeLabApi, makeRun } from './fake-api';

describe('renderNote', () => {
  it('keeps line breaks and renders Markdown', () => {
    expect(renderNote('line one\nline two')).toBe('<p>line one<br>\nline two</p>\n');
    expect(renderNote('**lr** 3e-4\n\n- a\n- b')).toBe(
      '<p><strong>lr</strong> 3e-4</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n',
    );
    expect(renderNote('`x < y`')).toBe('<p><code>x &lt; y</code></p>\n');
  });

  it('never lets markup, script URLs or remote images through', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '<a href="javascript:alert(1)">x</a>',
      '[click](javascript:alert(1))',
      '[click](JaVaScRiPt:alert(1))',
      '[click](  javascript:alert(1))',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '[file](file:///etc/passwd)',
      '[v](vbscript:msgbox(1))',
      '![track](https://example.com/pixel.png)',
      '<iframe src="https://example.com"></iframe>',
      '<svg onload=alert(1)>',
      '"><b onmouseover=alert(1)>x</b>',
      '[x](https://example.com" onclick="alert(1))',
    ];
    for (const text of hostile) {
      const html = renderNote(text);
      // every tag in the output is one markdown-it writes, with no event handler or script URL
      const tags = [...html.matchAll(/<([a-z0-9]+)\b([^>]*)>/gi)];
      for (const [, name, attrs] of tags) {
        expect(['p', 'a', 'br', 'code', 'strong', 'em'], `${text} → ${html}`).toContain(name);
        expect(attrs, text).not.toMatch(/\son[a-z]+=/i);
        if (name === 'a')
          expect(attrs, text).toMatch(
            /^ href="(https:|mailto:)[^"]*" target="_blank" rel="noopener noreferrer"$/,
          );
      }
      expect(html, text).not.toMatch(/<(script|img|iframe|svg)/i);
      expect(html, text).not.toMatch(/href="\s*(javascript|vbscript|data|file):/i);
    }
    expect(renderNote('[docs](https://example.com/a?b=1)')).toBe(
      '<p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">docs</a></p>\n',
    );
    // a disallowed link stays visible as text
    expect(renderNote('[click](javascript:alert(1))')).toBe('<p>[click](javascript:alert(1))</p>\n');
  });
});

describe('RunPageState notes and tags', () => {
  it('adds, edits and deletes notes, keeping their text exactly', async () => {
    const api = new FakeLabApi();
    const run = makeRun({ status: 'succeeded', progress: 1 });
    api.runs = [run];
    const page = new RunPageState(api, run.id);
    await page.refresh();
    expect(await page.addNote('first\nsecond')).toBe(true);
    expect(await page.addNote('other')).toBe(true);
    const [a, b] = page.detail!.notes;
    expect(a.text).toBe('first\nsecond');

    expect(await page.updateNote(a.id, 'first\n\nedited')).toBe(true);
    expect(page.detail!.notes.map((n) => n.text)).toEqual(['first\n\nedited', 'other']);
    expect(await page.deleteNote(b.id)).toBe(true);
    expect(page.detail!.notes.map((n) => n.id)).toEqual([a.id]);
    // the page agrees with the lab after a re-read
    await page.refresh();
    expect(page.detail!.notes.map((n) => n.text)).toEqual(['first\n\nedited']);

    // a refused change leaves the notes as they were and says why
    expect(await page.deleteNote(999)).toBe(false);
    expect(page.notesError).toBe(`noteId: run ${run.id} has no note 999`);
    expect(page.detail!.notes).toHaveLength(1);
    expect(page.error).toBeNull();
  });

  it('keeps a tag refusal beside the tag editor, not as the page error', async () => {
    const api = new FakeLabApi();
    const run = makeRun({ status: 'succeeded', tags: ['old'] });
    api.runs = [run];
    const page = new RunPageState(api, run.id);
    await page.refresh();
    api.tagsError = new LabError('invalid', 'tags[0]: contains a control character', 'tags[0]');
    expect(await page.setTags(['bad\u0007'])).toBe(false);
    expect(page.tagsError).toBe('tags[0]: contains a control character');
    expect(page.error).toBeNull();
    expect(page.detail!.tags).toEqual(['old']);
    api.tagsError = null;
    expect(await page.setTags(['new'])).toBe(true);
    expect(page.tagsError).toBeNull();
    expect(page.detail!.tags).toEqual(['new']);
  });
});
