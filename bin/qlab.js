#!/usr/bin/env node
// The `qlab` command: registers tsx so the TypeScript sources run as they are, then hands over to
// core/cli/main.ts. Only a failure to load reaches the catch below; main prints its own errors.
import { register } from 'tsx/esm/api';

register();
try {
  // first, before any module compiles WebAssembly: V8's relaxed-SIMD flag where this Node has it only behind
  // the flag (a shebang cannot pass V8 options; jobs the CLI launches get it in their execArgv instead)
  const { enableRelaxedSimdAtEntry } = await import('../core/nn/wasm/relaxed-simd.ts');
  await enableRelaxedSimdAtEntry();
  const { main } = await import('../core/cli/main.ts');
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Once main has returned the command is over: leftover timers (a close() grace period) must not hold the
  // process. Exit after stdout and stderr have flushed what was written.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
} catch (err) {
  process.stderr.write(`qlab: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  if (process.env.QLAB_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 3;
}
