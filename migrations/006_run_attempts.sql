-- Retries after a dead job process or worker (core/lab/scheduler.ts, docs/architecture.md "Faults"): `retries`
-- is how many times a run may be started again when its job stopped without a word (its heartbeat went stale:
-- the process, the lab or the `qlab worker` holding it was killed); `attempt` counts the starts (1 = the first).
-- A stale run with attempt <= retries goes back to `queued` with attempt + 1 instead of ending `interrupted`.
ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
