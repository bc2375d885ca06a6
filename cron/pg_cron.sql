-- Daybook heartbeat scheduled inside PostgreSQL with pg_cron (Debian: postgresql-15-cron),
-- for hosts where the system cron is not available. Run in the database pg_cron lives in
-- (cron.database_name), as a role allowed to update daybook.heartbeat.
--
-- The statement is exactly what `daybook heartbeat` does: one update in its own transaction.
SELECT cron.schedule(
    'daybook-heartbeat',
    '*/5 * * * *',
    $$UPDATE daybook.heartbeat SET beat_at = clock_timestamp(), beats = beats + 1 WHERE id = 1$$
);
