// Wall time and peak memory of one phase of a run (a model's training or inference). Memory is the whole
// process's (Node has no per-object accounting): peaks are sampled from process.memoryUsage() at every
// sample() call and on a timer, so short spikes between samples can be missed.

export interface MeterReading {
  seconds: number;
  /** Highest resident set size seen, MiB. */
  peakRssMb: number;
  /** Highest V8 heap in use seen, MiB. */
  peakHeapMb: number;
  /** Peak minus the value at start(), MiB (how much this phase added). */
  rssGrowthMb: number;
  heapGrowthMb: number;
}

const MB = 1024 * 1024;

export class ResourceMeter {
  private t0 = 0;
  private rss0 = 0;
  private heap0 = 0;
  private rssPeak = 0;
  private heapPeak = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  start(intervalMs = 100): this {
    const m = process.memoryUsage();
    this.rss0 = this.rssPeak = m.rss;
    this.heap0 = this.heapPeak = m.heapUsed;
    this.t0 = performance.now();
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.sample(), intervalMs);
      this.timer.unref?.();
    }
    return this;
  }

  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.rssPeak) this.rssPeak = m.rss;
    if (m.heapUsed > this.heapPeak) this.heapPeak = m.heapUsed;
  }

  /** Seconds since start() without stopping. */
  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  stop(): MeterReading {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return {
      seconds: this.elapsed(),
      peakRssMb: this.rssPeak / MB,
      peakHeapMb: this.heapPeak / MB,
      rssGrowthMb: (this.rssPeak - this.rss0) / MB,
      heapGrowthMb: (this.heapPeak - this.heap0) / MB,
    };
  }
}
