-- Lab-level sweeps: a parent run whose children are full runs of its kind, each queued as its own job (any
-- worker may take it). `sweep` holds the parent's axes as JSON ({"axes":[{"field":…,"values":[…]}]}); it is
-- NULL for every other run. The parent has no job of its own: it is `running` from its creation and the store
-- ends it in the transaction that ends its last child.

ALTER TABLE runs ADD COLUMN sweep TEXT;
