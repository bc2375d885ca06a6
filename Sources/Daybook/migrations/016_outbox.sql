-- Daybook sink schema, version 16: deliveries of closed days, from an outbox.
--
-- A destination (`daybook notify add`) receives the digest of every closed day of its slot
-- (or of every slot), or only of days with something unusual. When a window becomes `closed`,
-- the same statement that closes it writes one pending delivery per destination here, so a
-- closed day can never miss its delivery. A sender (`daybook notify send`, or `run`/`serve`)
-- delivers each destination's deliveries in order, one sender per destination at a time (an
-- advisory lock), with exponential backoff and a limit, and records every attempt.
CREATE TABLE daybook.destinations (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    kind          text NOT NULL CHECK (kind IN ('webhook')),
    slot_name     text,                    -- NULL: the days of every slot
    only_unusual  boolean NOT NULL DEFAULT false,
    settings      jsonb NOT NULL,          -- webhook: {"url", "secret_file"}
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE daybook.deliveries (
    id              bigserial PRIMARY KEY,
    destination     text NOT NULL REFERENCES daybook.destinations (name) ON DELETE CASCADE,
    slot_name       text NOT NULL,
    window_start    timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'skipped', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (destination, slot_name, window_start)
);
CREATE INDEX deliveries_pending ON daybook.deliveries (destination, window_start) WHERE status = 'pending';

CREATE TABLE daybook.delivery_attempts (
    delivery      bigint NOT NULL REFERENCES daybook.deliveries (id) ON DELETE CASCADE,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    outcome       text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    status_code   integer,
    error         text
);
CREATE INDEX delivery_attempts_delivery ON daybook.delivery_attempts (delivery);
