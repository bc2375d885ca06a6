-- Daybook sink schema, version 13: the source's row estimate of each table when its window closed.
--
-- The digest lists deletes that removed a large share of a table ("mass deletes") beside every
-- TRUNCATE. The share is measured against the source's own estimate of the table's rows
-- (pg_class.reltuples, kept by ANALYZE and autovacuum), read by `daybook run` when the window
-- closes, after the window's changes: the table had about source_rows - inserts + deletes rows
-- before them. NULL when the source had no estimate (never analysed) or the window closed
-- before this version.
ALTER TABLE daybook.table_windows ADD COLUMN source_rows bigint;
