-- Daybook sink schema, version 12: each table's shape as the stream described it.
--
-- pgoutput sends a table's Relation message (its columns, their types, which are the key,
-- the replica identity) before the table's first change on a connection and again after its
-- definition changed. Daybook keeps a row here whenever a table's shape differs from the last
-- one it kept for that table: the first change under the new shape is at commit `lsn`,
-- committed at `commit_time` (so a schema change is dated by the first change after the DDL,
-- not by the DDL). The digest compares consecutive shapes of a table to say what changed.
--
-- `columns` is a JSON array in column order: {"name", "type" (the type's OID), "typmod",
-- "key" (part of the replica identity)}; `replica_identity` is pg_class.relreplident
-- (d, n, f or i). A table keeps its OID through a rename, so `relid` follows it.
CREATE TABLE daybook.table_shapes (
    slot_name        text NOT NULL,
    relid            oid NOT NULL,
    lsn              pg_lsn NOT NULL,
    commit_time      timestamptz,
    schema_name      text NOT NULL,
    table_name       text NOT NULL,
    replica_identity text NOT NULL,
    columns          jsonb NOT NULL,
    PRIMARY KEY (slot_name, relid, lsn)
);
