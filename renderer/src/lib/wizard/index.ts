// The kinds that have a guided wizard; every other kind keeps the generic form.
import { isPlainObject } from '../config-form';
import { qdllmWizard } from './qdllm';
import { qheadWizard } from './qhead';
import type { Config, WizardSpec } from './spec';

const WIZARDS: Readonly<Record<string, (defaults: Config) => WizardSpec>> = {
  qdllm: qdllmWizard,
  qhead: qheadWizard,
};

export function hasWizard(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(WIZARDS, kind);
}

/** The kind's wizard spec built on its defaults, or null when the kind has none (or odd defaults). */
export function wizardFor(kind: string, defaults: unknown): WizardSpec | null {
  return hasWizard(kind) && isPlainObject(defaults) ? WIZARDS[kind](defaults) : null;
}
