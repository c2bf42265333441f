-- The experiment store's first schema on PostgreSQL: the same tables, keys and meanings as ../001_init.sql
-- (SQLite), so a run reads the same from either store. Differences: times are timestamptz (the lab writes
-- ISO-8601 UTC instants with millisecond precision and reads them back unchanged); JSON columns are `json`,
-- which keeps the text as written (key order included; jsonb would reorder keys); `seq` gives the creation
-- order of runs created within one millisecond (SQLite's rowid); notes take their ids from an identity column.

CREATE TABLE runs (
  id               text PRIMARY KEY,             -- UUID, so runs from several machines can be merged
  seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  kind             text NOT NULL,
  name             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  config           json NOT NULL,                -- already validated by the kind's schema
  seed             bigint NOT NULL,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  heartbeat_at     timestamptz,
  code_version     text NOT NULL,
  host             json NOT NULL DEFAULT '{}',
  backend          json NOT NULL DEFAULT '{}',
  error            text,
  progress         double precision NOT NULL DEFAULT 0,
  progress_message text,
  summary          json NOT NULL DEFAULT '{}',
  report           json NOT NULL DEFAULT '[]',
  cancel_requested boolean NOT NULL DEFAULT false -- set by a process that does not own the run; the owner polls it
);
CREATE INDEX runs_by_created ON runs (created_at, seq);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_kind ON runs (kind);
-- What a scheduler or worker claims next: queued runs in creation order.
CREATE INDEX runs_queued ON runs (created_at, seq) WHERE status = 'queued';

CREATE TABLE metrics (
  run_id    text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key       text NOT NULL,
  step      bigint NOT NULL,
  wall_time double precision NOT NULL,           -- ms since the Unix epoch, measured in the worker
  value     double precision NOT NULL,
  PRIMARY KEY (run_id, key, step)                -- replays of a batch insert nothing (first write wins)
);

-- Kept in the same statement as each metric batch, so lists never scan the metrics table.
CREATE TABLE metric_summary (
  run_id    text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key       text NOT NULL,
  count     bigint NOT NULL,
  last_step bigint NOT NULL,
  last      double precision NOT NULL,
  min       double precision NOT NULL,
  max       double precision NOT NULL,
  PRIMARY KEY (run_id, key)
);

CREATE TABLE artifacts (
  run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name       text NOT NULL,
  kind       text NOT NULL,
  path       text NOT NULL,                      -- relative to the lab directory
  bytes      bigint NOT NULL,
  sha256     text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE tags (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag    text NOT NULL,
  PRIMARY KEY (run_id, tag)
);
CREATE INDEX tags_by_tag ON tags (tag);

CREATE TABLE notes (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  text       text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX notes_by_run ON notes (run_id);
