// Where the GGUF tests find node-llama-cpp, an optional dependency: the install QLAB_NODE_LLAMA_CPP names (a
// directory with node_modules/node-llama-cpp, or the package directory), else the repo's node_modules. Suites
// without it are skipped, saying why.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

export function whereIsNodeLlamaCpp(): { found: boolean; why: string } {
  const env = process.env.QLAB_NODE_LLAMA_CPP;
  if (env) {
    try {
      createRequire(join(resolve(env), 'noop.js')).resolve('node-llama-cpp');
      return { found: true, why: `QLAB_NODE_LLAMA_CPP=${env}` };
    } catch {
      return { found: false, why: `QLAB_NODE_LLAMA_CPP=${env} has no node-llama-cpp` };
    }
  }
  if (existsSync(join(process.cwd(), 'node_modules', 'node-llama-cpp', 'package.json')))
    return { found: true, why: 'node_modules/node-llama-cpp' };
  return {
    found: false,
    why: 'node-llama-cpp is not installed here; set QLAB_NODE_LLAMA_CPP to a directory that has it',
  };
}
