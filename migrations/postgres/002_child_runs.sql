-- Parent/child runs (as ../002_child_runs.sql): a sweep is one parent run whose points are child runs. A child
-- is created by its parent's job process (never queued), shares its lifetime, and is deleted with it.

ALTER TABLE runs ADD COLUMN parent_id text REFERENCES runs (id) ON DELETE CASCADE;
-- Lists a parent's children in creation order; also makes "top-level runs only" (parent_id IS NULL) cheap.
CREATE INDEX runs_by_parent ON runs (parent_id, created_at, seq);
