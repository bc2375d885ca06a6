-- Daybook sink schema, version 20: mask tags that name their key.
--
-- A masked value's tag now names the key it was made with (U+E000 'mask:', the key's 16-hex
-- id, ':', 32 hex digits). An event's masked column shows '(masked, changed)' only where the
-- image before it holds NULL or a tag made with the same key: a value kept before the column
-- was masked, or a tag under a key rotated since (or of the earlier form, without a key id),
-- says nothing about whether the value changed, so the column shows '(masked)'.
CREATE OR REPLACE FUNCTION daybook.masked_image(image text, previous text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN image IS NULL OR strpos(image, chr(57344) || 'mask:') = 0 THEN image
           ELSE coalesce((SELECT jsonb_object_agg(c.key,
                                     CASE WHEN starts_with(c.value, chr(57344) || 'mask:') THEN
                                          CASE WHEN previous IS NOT NULL AND previous::jsonb ? c.key
                                                    AND ((previous::jsonb ->> c.key) IS NULL
                                                         OR (left(previous::jsonb ->> c.key, 23) = left(c.value, 23)
                                                             AND length(previous::jsonb ->> c.key) = length(c.value)
                                                             AND (previous::jsonb ->> c.key) <> c.value))
                                               THEN '(masked, changed)' ELSE '(masked)' END
                                     ELSE c.value END)::text
                            FROM jsonb_each_text(image::jsonb) c), '{}') END;
