// The one worker entry every job process starts from: Electron's utility process (process.parentPort) in the
// desktop app, child_process.fork (process.send / 'message') in the CLI and browser mode.
import { Worker } from 'node:worker_threads';
import type { GgufCalibratedMessage, WorkerMessage } from '../protocol';
import { runWorker, type WorkerPort } from './runner';

/** How often the watchdog thread checks that the lab process is still there. */
export const PARENT_WATCH_MS = 500;

/**
 * A job that computes without yielding never sees 'disconnect'; a thread of its own does. When the parent
 * (the lab) is gone — this process was re-parented, or the parent pid no longer exists — the thread kills the
 * whole process, mid-computation if need be: nobody is left to report to.
 */
function watchParent(): void {
  const source = `
    const { workerData } = require('node:worker_threads');
    const { ppid, every } = workerData;
    const gone = () => {
      if (process.ppid !== ppid) return true;
      try { process.kill(ppid, 0); return false; } catch (e) { return e.code === 'ESRCH'; }
    };
    setInterval(() => { if (gone()) process.kill(process.pid, 'SIGKILL'); }, every);
  `;
  try {
    const w = new Worker(source, { eval: true, workerData: { ppid: process.ppid, every: PARENT_WATCH_MS } });
    w.unref();
    w.on('error', () => undefined);
  } catch {
    // no threads (unusual): the 'disconnect' handler below still covers jobs that yield
  }
}

interface ElectronParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function createPort(): { port: WorkerPort; exit: (code: number) => void } {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      port: {
        send: (msg: WorkerMessage | GgufCalibratedMessage) => {
          parentPort.postMessage(msg);
          return Promise.resolve();
        },
        onMessage: (cb) => parentPort.on('message', (e) => cb(e.data)),
      },
      // postMessage has no delivery callback; give it a moment (the parent also ends the process after `done`).
      exit: (code) => setTimeout(() => process.exit(code), 100),
    };
  }
  const send = process.send?.bind(process);
  if (!send) {
    console.error('qlab worker: started without an IPC channel; it must be forked by the lab');
    process.exit(2);
  }
  // An orphaned worker (the lab died) has no one to report to: stop rather than compute for nobody.
  process.on('disconnect', () => process.exit(1));
  return {
    port: {
      send: (msg: WorkerMessage | GgufCalibratedMessage) =>
        new Promise<void>((resolve) => {
          // The callback fires once the message is written to the channel; errors mean the parent is gone.
          if (!process.connected) return resolve();
          send(msg, undefined, {}, () => resolve());
        }),
      onMessage: (cb) => process.on('message', (m: unknown) => cb(m)),
    },
    exit: (code) => process.exit(code),
  };
}

watchParent();
const { port, exit } = createPort();
runWorker(port, { exit });
