// The lab's event bus: what the scheduler and the run supervisors publish (run created/updated, metric
// batches, log lines) goes to every subscriber (the desktop window, server-sent events, waiters). One broken
// subscriber never stops the others or the run. A distributed lab bridges buses across processes through the
// shared store's notifications; in one process this is all there is.
import type { LabEvent } from '../api/lab-api';

export class EventBus {
  private readonly listeners = new Set<(event: LabEvent) => void>();

  on(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: LabEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // one broken listener must not stop the others or the run
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
