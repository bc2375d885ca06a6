-- Daybook sink schema, version 17: email destinations.
--
-- An email destination's settings are {"host", "port", "security", "user", "password_file",
-- "from", "to", "subject"}; its password stays in the file, read by msmtp at each attempt.
ALTER TABLE daybook.destinations DROP CONSTRAINT destinations_kind_check;
ALTER TABLE daybook.destinations ADD CONSTRAINT destinations_kind_check CHECK (kind IN ('webhook', 'email'));
