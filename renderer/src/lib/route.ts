// Hash routes: #/ runs, #/new[?kind=…&from=<run id>], #/run/<id>, #/compare/<id>,<id>,…, #/lab (file roots,
// bundle import) — the hash survives reloads and
// needs nothing from the server (browser mode serves one index.html).
export type Route =
  | { page: 'runs' }
  | { page: 'new'; kind: string | null; from?: string | null }
  | { page: 'run'; id: string }
  | { page: 'compare'; ids: string[] }
  | { page: 'lab' };

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [path, query = ''] = h.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'new') {
    const q = new URLSearchParams(query);
    // from: a run whose config, name, seed and tags the form opens on (clone and edit).
    const from = q.get('from');
    return from ? { page: 'new', kind: q.get('kind'), from } : { page: 'new', kind: q.get('kind') };
  }
  if (parts[0] === 'run' && parts[1]) return { page: 'run', id: parts[1] };
  if (parts[0] === 'lab') return { page: 'lab' };
  if (parts[0] === 'compare' && parts[1])
    return { page: 'compare', ids: parts[1].split(',').filter(Boolean) };
  return { page: 'runs' };
}

export function routeHash(route: Route): string {
  switch (route.page) {
    case 'runs':
      return '#/';
    case 'new': {
      const q = new URLSearchParams();
      if (route.kind) q.set('kind', route.kind);
      if (route.from) q.set('from', route.from);
      const s = q.toString();
      return s ? `#/new?${s}` : '#/new';
    }
    case 'run':
      return `#/run/${encodeURIComponent(route.id)}`;
    case 'compare':
      return `#/compare/${route.ids.map(encodeURIComponent).join(',')}`;
    case 'lab':
      return '#/lab';
  }
}
