// The one worker entry every job process starts from: Electron's utility process (process.parentPort) in the
// desktop app, child_process.fork (process.send / 'message') in the CLI and browser mode.
import type { WorkerMessage } from '../protocol';
import { runWorker, type WorkerPort } from './runner';

interface ElectronParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function createPort(): { port: WorkerPort; exit: (code: number) => void } {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      port: {
        send: (msg: WorkerMessage) => {
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
      send: (msg: WorkerMessage) =>
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

const { port, exit } = createPort();
runWorker(port, { exit });
