// Awaits a promise that must reject with a LabError, and returns the error for assertions on code and field.
import { expect } from 'vitest';
import { LabError } from '../../core/api/lab-api';

export async function rejection(p: Promise<unknown>): Promise<LabError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return err as LabError;
  }
  throw new Error('expected a rejection');
}
