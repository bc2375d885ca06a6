-- Daybook sink schema, version 3: windows may also be closed by the idle watermark
-- (`daybook run --idle-watermark`), the server's clock while the stream is caught up.
ALTER TABLE daybook.windows DROP CONSTRAINT windows_closed_by_check;
ALTER TABLE daybook.windows ADD CONSTRAINT windows_closed_by_check
    CHECK (closed_by IN ('data', 'heartbeat', 'startup', 'idle'));
