-- The experiment store's first schema. Times are ISO-8601 UTC strings; JSON columns hold validated JSON text.

CREATE TABLE runs (
  id               TEXT PRIMARY KEY,           -- UUID, so runs from several machines can be merged
  kind             TEXT NOT NULL,
  name             TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  config           TEXT NOT NULL,              -- JSON, already validated by the kind's schema
  seed             INTEGER NOT NULL,
  created_at       TEXT NOT NULL,
  started_at       TEXT,
  finished_at      TEXT,
  heartbeat_at     TEXT,
  code_version     TEXT NOT NULL,
  host             TEXT NOT NULL DEFAULT '{}', -- JSON
  backend          TEXT NOT NULL DEFAULT '{}', -- JSON
  error            TEXT,
  progress         REAL NOT NULL DEFAULT 0,
  progress_message TEXT,
  summary          TEXT NOT NULL DEFAULT '{}', -- JSON
  report           TEXT NOT NULL DEFAULT '[]', -- JSON
  cancel_requested INTEGER NOT NULL DEFAULT 0   -- set by a process that does not own the run; the owner polls it
);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_kind ON runs (kind);

CREATE TABLE metrics (
  run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key       TEXT NOT NULL,
  step      INTEGER NOT NULL,
  wall_time REAL NOT NULL,                      -- ms since the Unix epoch, measured in the worker
  value     REAL NOT NULL,
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;

-- Kept in the same transaction as each metric batch, so lists never scan the metrics table.
CREATE TABLE metric_summary (
  run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key       TEXT NOT NULL,
  count     INTEGER NOT NULL,
  last_step INTEGER NOT NULL,
  last      REAL NOT NULL,
  min       REAL NOT NULL,
  max       REAL NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE artifacts (
  run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  path       TEXT NOT NULL,                     -- relative to the lab directory
  bytes      INTEGER NOT NULL,
  sha256     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag    TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags (tag);

CREATE TABLE notes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  text       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX notes_by_run ON notes (run_id);
