// Notes as Markdown, safely: markdown-it with raw HTML off (every `<` in a note is escaped, never parsed),
// `breaks` on (a line break in a note stays one), and links only to http(s) and mailto. markdown-it's own
// link check already refuses javascript:, vbscript:, file: and data:; the allow-list here is narrower still.
import MarkdownIt from 'markdown-it';

const ALLOWED_LINK = /^(https?:|mailto:)/i;

const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.validateLink = (url: string): boolean => ALLOWED_LINK.test(url.trim());
// No images: a note must not make the page fetch anything (the lab works offline; a URL could track).
md.disable('image');
// Links leave the app: a new browsing context without an opener (the desktop shell refuses to open it in-app).
const defaultLinkOpen =
  md.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('target', '_blank');
  tokens[idx].attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** A note's text as HTML (safe to put in the page with {@html}). */
export function renderNote(text: string): string {
  return md.render(text);
}
