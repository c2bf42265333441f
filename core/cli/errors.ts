// One error type for the command line: a one-line message and the exit code it maps to.
import { LabError } from '../api/lab-api';

/** Exit codes: 0 success, 1 a run failed or was cancelled/interrupted, 2 usage or input error, 3 lab error. */
export const EXIT = { ok: 0, runFailed: 1, usage: 2, lab: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Turns any thrown value into the one line the user sees and the exit code. */
export function describeFailure(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof LabError) {
    return {
      line: err.message,
      exitCode: err.code === 'invalid' || err.code === 'not-found' ? EXIT.usage : EXIT.lab,
    };
  }
  if (err instanceof Error) return { line: err.message.split('\n')[0] || err.name, exitCode: EXIT.lab };
  return { line: String(err), exitCode: EXIT.lab };
}
