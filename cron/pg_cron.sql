-- Daybook heartbeat scheduled inside PostgreSQL with pg_cron (Debian: postgresql-15-cron),
-- for hosts where the system cron is not available.
--
-- pg_cron lives in one database (cron.database_name, usually postgres) and runs jobs in
-- others. Run this file there, naming the database Daybook reads:
--
--     psql -d postgres -v daybook_db=app -f cron/pg_cron.sql
--     psql -d postgres -v daybook_db=app -v schedule='* * * * *' -f cron/pg_cron.sql   # every minute
--
-- pg_cron runs a job over a libpq connection to localhost unless the server has
-- cron.use_background_workers = on; with a connection, the job's role must be able to log in
-- without a prompt (.pgpass of the server's user, or a trust line in pg_hba.conf).
--
-- The job is exactly what `daybook heartbeat` does: one update in its own transaction.
-- Running the file again replaces the job.
\set ON_ERROR_STOP on
\if :{?daybook_db}
\else
    \echo 'set the database Daybook reads: psql -v daybook_db=NAME -f cron/pg_cron.sql'
    \quit
\endif
\if :{?schedule}
\else
    \set schedule '*/5 * * * *'
\endif

CREATE EXTENSION IF NOT EXISTS pg_cron;

SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'daybook-heartbeat-' || :'daybook_db';

SELECT cron.schedule_in_database(
    'daybook-heartbeat-' || :'daybook_db',
    :'schedule',
    $$UPDATE daybook.heartbeat SET beat_at = clock_timestamp(), beats = beats + 1 WHERE id = 1$$,
    :'daybook_db'
);
