// The kinds that have a guided wizard: every kind whose metadata the renderer can import (core/methods/
// catalog.ts); kinds without it (e.g. test kinds loaded at run time) keep the generic form.
import { kindMeta } from '../../../../core/api/kinds';
import { isPlainObject } from '../config-form';
import { buildWizard } from './build';
import type { WizardSpec } from './spec';

export function hasWizard(kind: string): boolean {
  return kindMeta(kind) !== undefined;
}

/** The kind's wizard spec built on its defaults, or null when the kind has none (or odd defaults). */
export function wizardFor(kind: string, defaults: unknown): WizardSpec | null {
  const meta = kindMeta(kind);
  return meta && isPlainObject(defaults) ? buildWizard(meta, defaults) : null;
}
