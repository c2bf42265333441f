// The JobQueue seam: how runs reach a process that runs them. The facade enqueues each run it creates (the run
// row is already `queued` in the RunStore); a scheduler consumes the queue with a handler that runs one job and
// resolves when it has ended, never more than `concurrency` at once. Whatever the queue, a run is claimed in
// the RunStore (queued → running) before its handler is called, so two consumers never run the same run.
// The local queue below reads the store itself (the desktop app, `qlab serve` and `qlab run` on one machine);
// a distributed queue (BullMQ on Redis) hands the same run ids to `qlab worker` processes on other machines.
import type { RunStore } from './run-store';

export interface JobQueue {
  readonly name: string;
  /**
   * Makes a queued run available to consumers. `attempt`: which start of the run this is (a run re-queued after
   * its job died is enqueued again with its next attempt); undefined: read it from the store.
   */
  enqueue(runId: string, attempt?: number): Promise<void>;
  /**
   * Starts consuming: `handler` is called with each run claimed for this process (already `running` in the
   * store) and must resolve once that run has ended. At most `concurrency` handlers run at once.
   */
  consume(
    handler: (runId: string) => Promise<void>,
    opts: { concurrency: number; host: () => Record<string, unknown> },
  ): void;
  /** Stops handing out runs (those in flight keep running); resolves when no claim is in progress. */
  stop(): Promise<void>;
}

export interface LocalJobQueueOptions {
  /**
   * false: consume only runs enqueued through this queue, leaving runs queued by another process to their
   * owner (default true: adopt every queued run in the store).
   */
  adoptQueued?: boolean;
  /** Where a failed claim is reported (the queue keeps going). */
  onError?: (message: string) => void;
}

/**
 * The store is the queue: queued runs are claimed oldest first (RunStore.claimNext) whenever a slot is free,
 * on enqueue, and when a handler ends. One claim loop runs at a time; a wake-up during it makes it look again.
 */
export class LocalJobQueue implements JobQueue {
  readonly name = 'local';
  private readonly enqueued = new Set<string>();
  private handler: ((runId: string) => Promise<void>) | undefined;
  private concurrency = 1;
  private host: () => Record<string, unknown> = () => ({});
  private inFlight = 0;
  private stopped = false;
  private pumping: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: RunStore,
    private readonly opts: LocalJobQueueOptions = {},
  ) {}

  async enqueue(runId: string): Promise<void> {
    this.enqueued.add(runId);
    setImmediate(() => void this.pump());
  }

  consume(
    handler: (runId: string) => Promise<void>,
    opts: { concurrency: number; host: () => Record<string, unknown> },
  ): void {
    this.handler = handler;
    this.concurrency = opts.concurrency;
    this.host = opts.host;
    void this.pump();
  }

  /** Claims and hands out queued runs while slots are free. Never rejects. */
  pump(): Promise<void> {
    if (this.handler === undefined || this.stopped) return Promise.resolve();
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    const handler = this.handler;
    const run = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && this.inFlight < this.concurrency) {
            const only = this.opts.adoptQueued === false ? [...this.enqueued] : undefined;
            if (only !== undefined && only.length === 0) break;
            const id = await this.store.claimNext(new Date().toISOString(), this.host(), only);
            if (id === undefined) break;
            this.enqueued.delete(id);
            this.inFlight++;
            void handler(id)
              .catch((err: unknown) => this.opts.onError?.(`running ${id} failed: ${(err as Error).message}`))
              .finally(() => {
                this.inFlight--;
                if (!this.stopped) setImmediate(() => void this.pump());
              });
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.opts.onError?.(`starting queued runs failed: ${(err as Error).message}`);
      }
    })();
    // cleared only after the assignment: a loop that finds nothing to do ends before any await
    const done: Promise<void> = run.finally(() => {
      if (this.pumping === done) this.pumping = undefined;
    });
    this.pumping = done;
    return done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pumping;
  }
}
