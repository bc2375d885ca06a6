import DaybookCore
import PostgresReplication

/// Attribution in the source database: `daybook.act_as`, which an application calls to say
/// who acts in its transaction, and the statement trigger that reports the role and the
/// application of each statement on the tables it is attached to (`setup --attribute`,
/// `capture TABLE --attribute`).
///
/// Both emit a transactional `daybook.actor` logical message (``ActorClaim``), which decodes
/// in the transaction, in order among its changes, and covers the changes that follow it. No
/// trigger runs per row: the statement trigger costs one small WAL record per statement.
///
/// Any role may call `pg_logical_emit_message` on the supported versions, so the functions
/// need no rights of their own: they run as the caller (not `SECURITY DEFINER`), with a fixed
/// `search_path`, and cut each value to one byte more than Daybook keeps, so that an oversized
/// one is refused by Daybook without filling the WAL.
public enum SourceAttribution {
    public static let triggerName = "daybook_attribute"

    static let functionsSQL = """
        CREATE SCHEMA IF NOT EXISTS daybook;
        GRANT USAGE ON SCHEMA daybook TO PUBLIC;
        CREATE OR REPLACE FUNCTION daybook.act_as(actor text, application text DEFAULT NULL, request text DEFAULT NULL)
            RETURNS void LANGUAGE sql VOLATILE PARALLEL UNSAFE
            SET search_path = pg_catalog, pg_temp
        AS $$
            SELECT pg_catalog.pg_logical_emit_message(true, 'daybook.actor', pg_catalog.json_build_object(
                'via', 'act_as',
                'user', pg_catalog.left(actor, \(ActorClaim.maximumLength + 1)),
                'app', pg_catalog.left(coalesce(application, pg_catalog.current_setting('application_name')), \(ActorClaim.maximumLength + 1)),
                'request', pg_catalog.left(request, \(ActorClaim.maximumLength + 1)))::text)
        $$;
        COMMENT ON FUNCTION daybook.act_as(text, text, text) IS
            'Daybook: the changes of this transaction after this call are attributed to actor (and application; default application_name)';
        CREATE OR REPLACE FUNCTION daybook.attribute_statement() RETURNS trigger LANGUAGE plpgsql
            SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
            PERFORM pg_catalog.pg_logical_emit_message(true, 'daybook.actor', pg_catalog.json_build_object(
                'via', 'trigger',
                'user', current_user,
                'session_user', session_user,
                'app', pg_catalog.left(pg_catalog.current_setting('application_name'), \(ActorClaim.maximumLength + 1)),
                'client', pg_catalog.inet_client_addr(),
                'table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME)::text);
            RETURN NULL;
        END
        $$;
        COMMENT ON FUNCTION daybook.attribute_statement() IS
            'Daybook: reports the role and application of each statement (daybook setup --attribute)';
        """

    /// Installs (or replaces) the functions; `daybook setup` does it every time.
    static func installFunctions(_ connection: PostgresConnection) throws(DaybookError) {
        try DaybookError.mapping(role: .source) { _ = try connection.simpleQuery(functionsSQL) }
    }

    /// The tables of `publication` (without Daybook's heartbeat table), as `schema.table`.
    public static func publishedTables(
        _ publication: String,
        on connection: PostgresConnection
    ) throws(DaybookError) -> [String] {
        try DaybookError.mapping(role: .source) {
            try connection.query(
                """
                SELECT schemaname || '.' || tablename FROM pg_publication_tables
                 WHERE pubname = $1 AND (schemaname, tablename) <> ('daybook', 'heartbeat')
                 ORDER BY 1
                """,
                [publication]
            ).rows.compactMap { $0[0] }
        }
    }

    /// Attaches the statement trigger to `tables` (again: replaced), or removes it; one line
    /// per table for the operator.
    public static func setTrigger(
        on tables: [String],
        attached: Bool,
        connection: PostgresConnection
    ) throws(DaybookError) -> [String] {
        try installFunctions(connection)
        var notes: [String] = []
        for table in tables {
            let quoted = connection.quoteQualifiedName(table)
            let statement =
                attached
                ? "CREATE OR REPLACE TRIGGER \(triggerName) BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(quoted) "
                    + "FOR EACH STATEMENT EXECUTE FUNCTION daybook.attribute_statement()"
                : "DROP TRIGGER IF EXISTS \(triggerName) ON \(quoted)"
            do {
                try connection.simpleQuery(statement)
            } catch {
                let reason = DaybookError.from(error, role: .source)
                throw DaybookError(
                    reason.code == .query ? .permission : reason.code,
                    "could not \(attached ? "attach the statement trigger to" : "remove the statement trigger from") "
                        + "\(table): \(reason.message) (it takes the table's owner)"
                )
            }
            notes.append(
                attached
                    ? "\(table): each statement's role and application are attributed (trigger \(triggerName))"
                    : "\(table): statement trigger removed; only daybook.act_as attributes its changes"
            )
        }
        return notes
    }
}
