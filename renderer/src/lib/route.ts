// Hash routes: #/ runs, #/new, #/run/<id>, #/compare/<id>,<id>,… — the hash survives reloads and
// needs nothing from the server (browser mode serves one index.html).
export type Route =
  | { page: 'runs' }
  | { page: 'new'; kind: string | null }
  | { page: 'run'; id: string }
  | { page: 'compare'; ids: string[] };

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [path, query = ''] = h.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'new') return { page: 'new', kind: new URLSearchParams(query).get('kind') };
  if (parts[0] === 'run' && parts[1]) return { page: 'run', id: parts[1] };
  if (parts[0] === 'compare' && parts[1])
    return { page: 'compare', ids: parts[1].split(',').filter(Boolean) };
  return { page: 'runs' };
}

export function routeHash(route: Route): string {
  switch (route.page) {
    case 'runs':
      return '#/';
    case 'new':
      return route.kind ? `#/new?kind=${encodeURIComponent(route.kind)}` : '#/new';
    case 'run':
      return `#/run/${encodeURIComponent(route.id)}`;
    case 'compare':
      return `#/compare/${route.ids.map(encodeURIComponent).join(',')}`;
  }
}
