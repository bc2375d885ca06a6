-- Daybook sink schema, version 18: columns of `values` tables kept as keyed hashes, or masked.
--
-- `daybook capture TABLE values --hash COLUMN --mask COLUMN --key-file FILE` stores
-- HMAC-SHA256 of hashed columns' values under the key in FILE instead of the values, and a
-- marker for masked ones. The sink keeps the file's name and the key's id (an HMAC of a fixed
-- text, which does not reveal the key), never the key.
ALTER TABLE daybook.capture ADD COLUMN hashed_columns text[] NOT NULL DEFAULT '{}';
ALTER TABLE daybook.capture ADD COLUMN masked_columns text[] NOT NULL DEFAULT '{}';
ALTER TABLE daybook.capture ADD COLUMN key_file text;
ALTER TABLE daybook.capture ADD COLUMN key_id text;

-- A masked value is held as a tag (U+E000 'mask:' and 32 hex digits of a keyed HMAC) while
-- its day is open, so that the close can tell whether it changed; the close then shows it as
-- a marker. This is a row image (JSON text) as shown: every tag replaced by '(masked)', or by
-- '(masked, changed)' where `previous` (the key's image before, with its tags) holds the
-- column with another value. NULL stays null; other values stay as they are.
CREATE FUNCTION daybook.masked_image(image text, previous text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN image IS NULL OR strpos(image, chr(57344) || 'mask:') = 0 THEN image
           ELSE coalesce((SELECT jsonb_object_agg(c.key,
                                     CASE WHEN starts_with(c.value, chr(57344) || 'mask:') THEN
                                          CASE WHEN previous IS NOT NULL AND previous::jsonb ? c.key
                                                    AND (previous::jsonb ->> c.key) IS DISTINCT FROM c.value
                                               THEN '(masked, changed)' ELSE '(masked)' END
                                     ELSE c.value END)::text
                            FROM jsonb_each_text(image::jsonb) c), '{}') END;
