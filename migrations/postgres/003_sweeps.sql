-- Lab-level sweeps (as ../003_sweeps.sql): `sweep` holds a sweep parent's axes as JSON, NULL for every other
-- run. The parent has no job of its own: it is `running` from its creation and the store ends it in the
-- transaction that ends its last child.

ALTER TABLE runs ADD COLUMN sweep json;
