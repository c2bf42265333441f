#!/usr/bin/env node
// `npm run test:e2e`: the end-to-end tests alone (build the renderer first with `npx electron-vite build`).
import { spawnSync } from 'node:child_process';

const r = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
