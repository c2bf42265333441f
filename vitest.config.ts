import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { relaxedSimdExecArgv } from './core/nn/wasm/relaxed-simd';

export default defineConfig({
  plugins: [svelte()],
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // test processes start with V8's relaxed-SIMD flag where this Node has it only behind the flag (Node 20)
    execArgv: relaxedSimdExecArgv(),
  },
});
