-- Daybook sink schema, version 19: forgetting a key's values (`daybook forget`).
--
-- An erasure replaces every stored value of one key of one table by '(forgotten)' (its key
-- columns stay: the key is what the per-key rows are filed under), wherever the sink keeps
-- values: the events of closed and open days, the changed columns of closed days, the key's
-- latest image (deleted). The counts and the key's operations stay. Each erasure is logged
-- here: what, when, by which role, how many rows; never a value.
CREATE TABLE daybook.erasures (
    id            bigserial PRIMARY KEY,
    slot_name     text NOT NULL,
    table_name    text NOT NULL,
    key           text NOT NULL,                    -- as value_events.key
    requested_by  text NOT NULL DEFAULT current_user,
    erased_at     timestamptz NOT NULL DEFAULT now(),
    events        bigint NOT NULL,                  -- events whose images were erased
    key_windows   bigint NOT NULL,                  -- closed days whose changed columns were erased
    images        bigint NOT NULL,                  -- latest images deleted (0 or 1)
    -- Changes committed before the erasure may still be on their way to the sink (processed,
    -- not yet checkpointed; a large transaction not yet committed): until stream time has
    -- passed erased_at by a minute, every checkpoint erases them too as they arrive.
    settled       boolean NOT NULL DEFAULT false
);
CREATE INDEX erasures_pending ON daybook.erasures (slot_name) WHERE NOT settled;

-- Finding one key's closed days without a window: a key's rows across 90 days in one probe.
CREATE INDEX key_values_key ON daybook.key_values (slot_name, table_name, key);

-- A row image with every value but the key's columns replaced by '(forgotten)'.
CREATE FUNCTION daybook.forgotten_image(image text, row_key text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN image IS NULL THEN NULL
           ELSE coalesce((SELECT jsonb_object_agg(c.key, CASE WHEN row_key::jsonb ? c.key THEN c.value
                                                               ELSE to_jsonb('(forgotten)'::text) END)::text
                            FROM jsonb_each(image::jsonb) c), '{}') END;

-- Changed columns with their values before and after replaced by '(forgotten)'.
CREATE FUNCTION daybook.forgotten_changes(changed jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce((SELECT jsonb_object_agg(c.key, (SELECT coalesce(jsonb_object_agg(f.key, '(forgotten)'::text), '{}')
                                                       FROM jsonb_each(c.value) f))
                       FROM jsonb_each(changed) c), '{}');
