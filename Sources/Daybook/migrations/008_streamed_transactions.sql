-- Daybook sink schema, version 8: the chunks of large transactions the server streams before
-- they commit (pgoutput protocol 2, `streaming 'on'`), kept here until their Stream Commit.
--
-- A streamed transaction's window is its commit time, known only at its commit, and it may
-- yet roll back, whole or a subtransaction at a time. So its messages are kept as they came
-- (in protocol 1 form, without the xid the stream puts in front of them) and processed like
-- any transaction when the commit arrives; a rollback of the whole transaction deletes them,
-- one of a subtransaction is remembered in memory and skipped then. A row holds a run of
-- consecutive messages, each behind its length (4 bytes, big-endian), the first of them
-- message `first_seq` of its transaction: a few rows per hundred megabytes, not a row per change.
--
-- Nothing here ever counts: the rows are the slot's data, not results, and every session
-- start deletes the slot's rows (the server streams an unfinished transaction again from its
-- start after a reconnect). Hence UNLOGGED: a crash of the sink may empty the table, which
-- costs nothing, and a five-million-row transaction held here writes no WAL.
CREATE UNLOGGED TABLE daybook.stream_chunks (
    slot_name text   NOT NULL,
    xid       bigint NOT NULL,   -- the streamed (top-level) transaction
    first_seq bigint NOT NULL,   -- place of the chunk's first message in its transaction
    messages  bytea  NOT NULL,
    PRIMARY KEY (slot_name, xid, first_seq)
);
