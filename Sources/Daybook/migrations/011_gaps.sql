-- Daybook sink schema, version 11: gaps the operator accepted.
--
-- When the sink loses commits that the slot had confirmed (restored from a backup, failed
-- over to a standby that had not replayed them), the changes between the sink's checkpoint
-- and the slot's position cannot be read again. `daybook run` refuses; `daybook run
-- --accept-gap` goes on and records the gap here, so that every report, API response and
-- dashboard view of a window the lost commits may touch says that it is incomplete.
--
-- The lost commits were committed after the checkpoint's stream time (from_time) and before
-- the first commit read after the gap (until_time): at first the source's clock when the gap
-- was accepted, lowered to that first commit's time once it is read (refined). A window
-- may be touched when it ends after from_time and starts at or before until_time.
CREATE TABLE daybook.gaps (
    slot_name    text NOT NULL,
    from_lsn     pg_lsn NOT NULL,
    to_lsn       pg_lsn NOT NULL,
    from_time    timestamptz,
    until_time   timestamptz NOT NULL,
    refined      boolean NOT NULL DEFAULT false,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot_name, to_lsn),
    CHECK (from_lsn < to_lsn)
);
