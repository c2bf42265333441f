-- Retries after a dead job process or worker (as ../006_run_attempts.sql): `retries` is how many times a run
-- may be started again when its heartbeat went stale; `attempt` counts the starts (1 = the first).
ALTER TABLE runs ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN attempt integer NOT NULL DEFAULT 1;
