-- Version 5 on SQLite changes nothing: artifact bytes live in the database only on PostgreSQL
-- (postgres/005_artifact_blobs.sql); a SQLite lab keeps its artifact files under <labDir>/artifacts/. The file
-- keeps the two stores' schema versions in step.
SELECT 1;
