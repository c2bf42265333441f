// `npm run bench:sim`: the simulator benchmark suite (same as `qlab bench sim`); flags are passed on.
import { main } from '../core/cli/bench';

process.exitCode = await main(['sim', ...process.argv.slice(2)]);
