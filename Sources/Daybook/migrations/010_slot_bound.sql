-- Daybook sink schema, version 10: the slot is never confirmed past the sink's checkpoint.
--
-- Daybook used to confirm an idle stream up to the server's WAL end without writing that
-- position to the sink. Now it moves the checkpoint there first (Sink.advanceCheckpoint), so
-- the checkpoint is always at or past what the slot confirmed, and a slot ahead of it can only
-- mean that the sink lost commits (restored from a backup, failed over to a standby that had
-- not replayed them): `daybook run` refuses (SinkGap).
--
-- slot_bounded says that this holds for the row: true for every row from now on, false for the
-- rows an earlier Daybook wrote, whose slot may be ahead from an idle stretch. The first run on
-- such a row takes the slot's position (nothing can be read again below it) and sets it.
ALTER TABLE daybook.checkpoint ADD COLUMN slot_bounded boolean NOT NULL DEFAULT false;
ALTER TABLE daybook.checkpoint ALTER COLUMN slot_bounded SET DEFAULT true;
