// The colour theme: follow the system (the default), or light or dark by hand; remembered in localStorage
// and applied as html[data-theme] (global.css holds both palettes).
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'qlab.theme';

interface ThemeHost {
  readonly documentElement: { dataset: DOMStringMap };
}

export class ThemeState {
  #choice = $state<ThemeChoice>('system');
  readonly #doc: ThemeHost;
  readonly #storage: Pick<Storage, 'getItem' | 'setItem'> | null;

  constructor(doc: ThemeHost, storage: Pick<Storage, 'getItem' | 'setItem'> | null) {
    this.#doc = doc;
    this.#storage = storage;
    const saved = storage?.getItem(KEY);
    this.set(saved === 'light' || saved === 'dark' ? saved : 'system');
  }

  get choice(): ThemeChoice {
    return this.#choice;
  }

  set(choice: ThemeChoice): void {
    this.#choice = choice;
    if (choice === 'system') delete this.#doc.documentElement.dataset.theme;
    else this.#doc.documentElement.dataset.theme = choice;
    try {
      this.#storage?.setItem(KEY, choice);
    } catch {
      // A storage that refuses (private mode, quota) only loses the memory of the choice.
    }
  }
}
