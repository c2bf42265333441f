// The current route, kept in step with location.hash.
import { parseHash, routeHash, type Route } from '../lib/route';

export type { Route };

export class Router {
  #route = $state.raw<Route>({ page: 'runs' });
  readonly #win: Window;

  constructor(win: Window) {
    this.#win = win;
    this.#route = parseHash(win.location.hash);
    win.addEventListener('hashchange', () => {
      this.#route = parseHash(win.location.hash);
    });
  }

  get route(): Route {
    return this.#route;
  }

  go(route: Route): void {
    this.#win.location.hash = routeHash(route);
  }
}
