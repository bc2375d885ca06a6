-- Daybook sink schema, version 15: who made each change of a `values` table.
--
-- At the values level every change is kept with its row images; with attribution
-- (daybook.act_as, the statement trigger, a replication origin) it now also carries who made
-- it: a JSON object {"actor", "application", "origin"} (empty ones left out), or NULL for an
-- unattributed change. `daybook report --events` shows it as each event's `actor`.
ALTER TABLE daybook.value_events ADD COLUMN actor text;
