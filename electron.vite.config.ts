// electron-vite build: the main process, the job worker entry and the thread entries of the simulator and the
// bundle import (out/main/index.js, worker.js, cpu-threads.js, bundle-import.js), the sandboxed preload as CommonJS
// (out/preload/index.cjs), and the Svelte renderer (out/renderer). QLAB_BUILD_OUT (a folder) moves the whole
// output elsewhere, so tests can build the current tree without touching the out/ other processes run from.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;
const out = resolve(root, process.env.QLAB_BUILD_OUT || 'out');

export default defineConfig({
  main: {
    build: {
      outDir: resolve(out, 'main'),
      // Dependencies stay in node_modules (better-sqlite3 is native; the datasets are read from their packages).
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve(root, 'electron/main/index.ts'),
          worker: resolve(root, 'core/lab/worker/main.ts'),
          // The CPU simulator's pool starts worker_threads on its own module (import.meta.url); as an entry it
          // keeps a fixed name beside worker.js instead of being whatever chunk the dynamic import produced.
          'cpu-threads': resolve(root, 'core/quantum/cpu/threads.ts'),
          // Bundle uploads are imported on a worker thread started on this module's own file, likewise.
          'bundle-import': resolve(root, 'core/lab/bundle-import.ts'),
        },
        // playwright-core: the CLI's and browser mode's PDF printer loads it on demand; the desktop app prints
        // with Electron's printToPDF instead, so the bundle never needs it.
        external: ['better-sqlite3', 'playwright-core'],
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(out, 'preload'),
      externalizeDeps: false,
      // Sandboxed preloads cannot be ES modules.
      lib: {
        entry: resolve(root, 'electron/preload/index.ts'),
        formats: ['cjs'],
        fileName: () => 'index.cjs',
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [svelte()],
    build: {
      outDir: resolve(out, 'renderer'),
      rollupOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});
