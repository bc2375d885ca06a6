-- Daybook sink schema, version 2: when the stream last carried a heartbeat, so that
-- `daybook status` and the nightly report can tell whether heartbeats are arriving.
ALTER TABLE daybook.checkpoint ADD COLUMN last_heartbeat_at timestamptz;
