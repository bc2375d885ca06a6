-- Daybook sink schema, version 8: the chunks of large transactions the server streams before
-- they commit (pgoutput protocol 2, `streaming 'on'`), kept here until their Stream Commit.
--
-- A streamed transaction's window is its commit time, known only at its commit, and it may
-- yet roll back, whole or a subtransaction at a time. So its messages are kept as they came
-- (without the xid the stream puts in front of them), in order, and processed like any
-- transaction when the commit arrives; a rollback deletes them. Nothing here ever counts:
-- the rows are the slot's data, not results, and every session start deletes the slot's rows
-- (the server streams an unfinished transaction again from its start after a reconnect).
-- Hence UNLOGGED: a crash of the sink may empty the table, which costs nothing, and writing
-- a five-million-row transaction through here costs no WAL.
CREATE UNLOGGED TABLE daybook.stream_messages (
    slot_name text   NOT NULL,
    xid       bigint NOT NULL,   -- the streamed (top-level) transaction
    seq       bigint NOT NULL,   -- order of the message in its transaction
    kind      "char" NOT NULL,   -- the message type byte (R, Y, I, U, D, T, M)
    message   bytea  NOT NULL,   -- the message in protocol 1 form
    PRIMARY KEY (slot_name, xid, seq)
);
