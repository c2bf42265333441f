// `npm run bench:sim`: the simulator benchmark suite (same as `qlab bench sim`); flags are passed on.
import { enableRelaxedSimdAtEntry } from '../core/nn/wasm/relaxed-simd';

// relaxed SIMD on before anything compiles, as the qlab entry and the job launcher do: the bench times the FMA
// adjoint kernel a job runs (under plain tsx on Node 20 it would time the mul + add one)
await enableRelaxedSimdAtEntry();
const { main } = await import('../core/cli/bench');
process.exitCode = await main(['sim', ...process.argv.slice(2)]);
