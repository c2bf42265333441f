// Run config files for `qlab run`: read, parse with line/column on bad JSON, validate the envelope.
// The kind's own config schema is applied by the lab service (its errors name "config.<field>").
import { z } from 'zod';
import { CreateRunRequestSchema, describeZodError, type CreateRunRequest } from '../api/lab-api';
import { SweepAxisSchema, type SweepAxis } from '../api/sweep';
import { CliError } from './errors';
import { parseJsonLocated } from './json-locate';
import { readInputFile } from './read-file';

// A run file is a CreateRunRequest whose name, when given, is not empty and whose config is an object
// (config re-added last so fields and issues keep the order of the file format).
export const RunFileSchema = CreateRunRequestSchema.omit({ config: true })
  .extend({
    name: z.string().min(1).max(200).optional(),
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type RunFile = z.infer<typeof RunFileSchema>;

/**
 * A sweep file (`qlab sweep`, the wizard's "Save sweep as file"): a run file with the sweep's axes, each a
 * field (or "seed") and its values; the lab checks them as createSweep does. `qlab run` refuses `axes`.
 */
export const SweepFileSchema = RunFileSchema.extend({ axes: z.array(SweepAxisSchema).optional() }).strict();

function parseFile<S extends typeof RunFileSchema | typeof SweepFileSchema>(
  schema: S,
  text: string,
  label: string,
): z.infer<S> {
  const parsed = parseJsonLocated(text);
  if (!parsed.ok) {
    const { line, column, message } = parsed.error;
    throw new CliError(`${label}:${line}:${column}: invalid JSON: ${message}`);
  }
  const checked = schema.safeParse(parsed.value);
  if (!checked.success) throw new CliError(`${label}: ${describeZodError(checked.error).message}`);
  return checked.data as z.infer<S>;
}

/** Parses the text of a run file; `label` (usually the path) prefixes every message. */
export function parseRunFile(text: string, label: string): CreateRunRequest {
  return toRequest(parseFile(RunFileSchema, text, label));
}

function toRequest(data: RunFile): CreateRunRequest {
  const { kind, name, seed, tags, config, retries } = data;
  const req: CreateRunRequest = { kind, config };
  if (name !== undefined) req.name = name;
  if (seed !== undefined) req.seed = seed;
  if (tags !== undefined) req.tags = tags;
  if (retries !== undefined) req.retries = retries;
  return req;
}

/** Run configs are a few KB; 4 MiB leaves room for large inline lists and refuses /dev/zero at once. */
export const MAX_RUN_FILE_BYTES = 4 * 1024 * 1024;

export function readRunFile(path: string): CreateRunRequest {
  // Some editors save a byte-order mark; readInputFile drops it (the one rule for every text file).
  return parseRunFile(readInputFile(path, 'config file', MAX_RUN_FILE_BYTES), path);
}

/** A run file or a sweep file: the run's request and the file's axes (none in a plain run file). */
export function readSweepFile(path: string): { run: CreateRunRequest; axes: SweepAxis[] } {
  const data = parseFile(SweepFileSchema, readInputFile(path, 'config file', MAX_RUN_FILE_BYTES), path);
  const { axes, ...run } = data;
  return { run: toRequest(run), axes: axes ?? [] };
}

/** Applies --name and --tag from the command line over the file's values. */
export function applyOverrides(
  req: CreateRunRequest,
  name: string | undefined,
  tags: string[],
): CreateRunRequest {
  const out: CreateRunRequest = { ...req };
  if (name !== undefined) {
    if (name.length === 0 || name.length > 200)
      throw new CliError('option --name must be 1 to 200 characters');
    out.name = name;
  }
  if (tags.length > 0) {
    for (const t of tags) {
      if (t.length === 0 || t.length > 100) throw new CliError('option --tag must be 1 to 100 characters');
    }
    out.tags = [...new Set([...(req.tags ?? []), ...tags])];
  }
  return out;
}
