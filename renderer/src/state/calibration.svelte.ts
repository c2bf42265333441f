// This machine's calibration as the wizard shows it: read from the lab when a wizard opens, measured again
// by its "Recalibrate" button (the lab times its simulator and transformer kernels for a few seconds).
import type { Calibration, LabApi } from '../../../core/api/lab-api';

export class CalibrationState {
  readonly #api: LabApi;
  #value = $state.raw<Calibration | null>(null);
  #busy = $state(false);
  #error = $state<string | null>(null);

  constructor(api: LabApi) {
    this.#api = api;
  }
  get value(): Calibration | null {
    return this.#value;
  }
  get busy(): boolean {
    return this.#busy;
  }
  get error(): string | null {
    return this.#error;
  }

  async load(): Promise<void> {
    try {
      this.#value = await this.#api.getCalibration();
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    }
  }

  /** Measures again; with `ggufFiles`, times those GGUF models (a QD-LLM teacher's) and keeps the rest. */
  async recalibrate(ggufFiles?: string[]): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#error = null;
    try {
      this.#value = await this.#api.calibrate(ggufFiles?.length ? { ggufFiles } : undefined);
    } catch (err) {
      this.#error = err instanceof Error ? err.message : String(err);
    } finally {
      this.#busy = false;
    }
  }
}
