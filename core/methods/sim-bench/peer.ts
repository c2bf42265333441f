// The PyTorch peer (shared/peers/torch_statevector.py): run on the same machine in the same benchmark
// so the report can state a ratio. PyTorch is never a dependency of the lab: where the peer or torch is
// missing, the benchmark says so and reports the lab's own figures only.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerTimes {
  forward_s: number;
  forward_backward_s: number;
}

export interface PeerResult {
  available: boolean;
  reason?: string;
  torch?: string;
  threads?: number;
  results?: Record<string, PeerTimes>;
}

/** Where the peers live: QLAB_PEERS_DIR, else ../shared/peers beside the repository. */
export function peersDir(): string {
  if (process.env.QLAB_PEERS_DIR) return resolve(process.env.QLAB_PEERS_DIR);
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', '..', 'shared', 'peers');
}

export function runPythonPeer(script: string, args: string[], timeoutMs = 600_000): Promise<PeerResult> {
  const path = join(peersDir(), script);
  const python = process.env.QLAB_PEER_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(path))
    return Promise.resolve({ available: false, reason: `peer script not found at ${path}` });
  if (!existsSync(python)) return Promise.resolve({ available: false, reason: `${python} not found` });
  return new Promise((done) => {
    const child = spawn(python, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ available: false, reason: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        const last = err.trim().split('\n').pop() ?? '';
        done({ available: false, reason: `peer exited with ${code}: ${last}` });
        return;
      }
      try {
        const j = JSON.parse(out) as { torch: string; threads: number; results: Record<string, PeerTimes> };
        done({ available: true, torch: j.torch, threads: j.threads, results: j.results });
      } catch {
        done({ available: false, reason: 'peer printed no JSON' });
      }
    });
  });
}
