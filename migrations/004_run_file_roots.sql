-- The file roots of a run created over HTTP or IPC (core/lab/file-roots.ts): the real paths of the folders its
-- config's files were checked against. Whichever process launches the run's job (the lab that created it,
-- another lab process on the same lab directory, a `qlab worker`) reads them here and sends them with the start
-- message, so the job opens its files only inside them (core/util/file-guard.ts). A run with no row (created
-- from the command line) runs unguarded. Written in the same transaction as the run, so no process can claim a
-- guarded run before its roots are there. A child run is guarded by its top-level parent's row.

CREATE TABLE run_file_roots (
  run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  -- a JSON array of absolute real paths
  roots  TEXT NOT NULL
);
