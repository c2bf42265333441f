-- Artifact bytes kept in the database (artifact-store-pg.ts), so a hub reads what any worker wrote without a
-- shared lab directory. Content-addressed: a blob is the SHA-256 of its bytes, stored as chunks of at most
-- 1 MiB (seq 0, 1, …; a 0-byte file is one empty chunk), all written in one transaction after the bytes sent
-- were hashed and matched. An `artifacts` row whose path is `db:<sha256>` points here; readers hash the bytes
-- again against the row and refuse a damaged blob.

CREATE TABLE artifact_blobs (
  sha256 text NOT NULL,
  seq    integer NOT NULL CHECK (seq >= 0),
  data   bytea NOT NULL CHECK (length(data) <= 1048576),
  PRIMARY KEY (sha256, seq)
);
