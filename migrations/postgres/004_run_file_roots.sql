-- The file roots of a run created over HTTP or IPC (as ../004_run_file_roots.sql): whichever process launches
-- the run's job reads them here and sends them with the start message; a run with no row runs unguarded.
-- Written in the same transaction as the run. A child run is guarded by its top-level parent's row.

CREATE TABLE run_file_roots (
  run_id text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  roots  text[] NOT NULL
);
