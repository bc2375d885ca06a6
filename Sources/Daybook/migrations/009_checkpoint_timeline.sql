-- Daybook sink schema, version 9: the source server's timeline with each checkpoint.
--
-- After a failover the new primary's WAL continues the old primary's only up to the point it
-- was promoted at (its timeline's switchpoint). A checkpoint past that point holds
-- transactions the new primary never had, and the new primary's own transactions may take
-- their LSNs: reading on would skip them silently. With the timeline of the checkpoint kept,
-- `daybook run` compares it with the server's timeline history and refuses instead.
ALTER TABLE daybook.checkpoint ADD COLUMN timeline integer;
