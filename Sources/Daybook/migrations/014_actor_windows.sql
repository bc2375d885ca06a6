-- Daybook sink schema, version 14: who made the changes, per table and window.
--
-- An application says who acts in its transaction with daybook.act_as(actor, application,
-- request), a statement trigger (daybook setup --attribute) says which role and application
-- ran each statement, and pgoutput's Origin message names the node a replicated change came
-- from. Each transactional daybook.actor message covers the changes of its transaction that
-- follow it. Daybook counts the attributed changes of each table and window here, in the same
-- sink transaction as the table's counts (exactly once, as they are); the unattributed ones
-- are the table's total in daybook.table_windows minus the sum of its rows here.
--
-- At most 100 (actor, application, origin) rows are kept by name per table and window; the
-- rest are summed into the row whose actor, application and origin are all empty.
CREATE TABLE daybook.actor_windows (
    slot_name    text NOT NULL,
    window_start timestamptz NOT NULL,
    table_name   text NOT NULL,
    actor        text NOT NULL,
    application  text NOT NULL,
    origin       text NOT NULL,
    changes      bigint NOT NULL,
    PRIMARY KEY (slot_name, window_start, table_name, actor, application, origin)
);
