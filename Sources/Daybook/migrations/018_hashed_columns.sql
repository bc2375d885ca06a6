-- Daybook sink schema, version 18: columns of `values` tables stored as keyed hashes.
--
-- `daybook capture TABLE values --hash COLUMN --key-file FILE` stores HMAC-SHA256 of those
-- columns' values under the key in FILE instead of the values. The sink keeps the file's name
-- and the key's id (an HMAC of a fixed text, which does not reveal the key), never the key.
ALTER TABLE daybook.capture ADD COLUMN hashed_columns text[] NOT NULL DEFAULT '{}';
ALTER TABLE daybook.capture ADD COLUMN key_file text;
ALTER TABLE daybook.capture ADD COLUMN key_id text;
