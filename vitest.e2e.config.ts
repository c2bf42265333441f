import { defineConfig } from 'vitest/config';

// End-to-end tests: headless Chromium (playwright-core) against `qlab serve` on a temporary lab dir.
// They need the built renderer (`npx electron-vite build`), which `npm test` runs before them.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
