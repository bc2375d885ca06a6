import PostgresReplication

/// `daybook setup`: the heartbeat table, the publication and the slot, in the source database.
public enum SourceSetup {
    public struct Options: Sendable {
        public var slot: String
        public var publication: String
        /// Publish every table in these schemas (PostgreSQL 15 `TABLES IN SCHEMA`).
        public var schemas: [String]
        /// Or publish exactly these tables (`schema.table` or `table`).
        public var tables: [String]

        public init(slot: String, publication: String, schemas: [String], tables: [String]) {
            self.slot = slot
            self.publication = publication
            self.schemas = schemas
            self.tables = tables
        }
    }

    /// What setup did and what it noticed, one line each, for the operator.
    public static func run(on connection: PostgresConnection, options: Options) throws(DaybookError) -> [String] {
        try DaybookError.mapping(role: "source") {
            var notes: [String] = []
            try SourceChecks.requireSupportedVersion(connection)
            try SourceChecks.requireLogicalDecoding(connection)
            let slot = try connection.query(
                "SELECT plugin, database, current_database() FROM pg_replication_slots WHERE slot_name = $1", [options.slot])
            let existingSlot = slot.rows.first
            if let row = existingSlot {
                if row[0] != "pgoutput" {
                    throw DaybookError(
                        .configuration, "slot \(options.slot) exists with plugin \(row[0] ?? "?"), not pgoutput: choose another --slot")
                }
                if row[1] != row[2] {
                    throw DaybookError(
                        .configuration,
                        "slot \(options.slot) belongs to database \(row[1] ?? "?") (slot names are per server): choose another --slot")
                }
            }
            try connection.simpleQuery(Heartbeat.createTableSQL)
            let heartbeat = "daybook.heartbeat"
            let quotedPublication = connection.quoteIdentifier(options.publication)
            if try !SourceChecks.publicationExists(connection, options.publication) {
                let target: String
                if !options.tables.isEmpty {
                    let tables = options.tables.map(connection.quoteQualifiedName) + [heartbeat]
                    target = "TABLE " + tables.joined(separator: ", ")
                } else {
                    let schemas = (options.schemas.isEmpty ? ["public"] : options.schemas).map(connection.quoteIdentifier)
                    target = "TABLES IN SCHEMA " + schemas.joined(separator: ", ") + ", TABLE \(heartbeat)"
                }
                try connection.simpleQuery("CREATE PUBLICATION \(quotedPublication) FOR \(target)")
                notes.append("created publication \(options.publication)")
            } else {
                notes.append("publication \(options.publication) already exists; left as it is")
                if try !SourceChecks.heartbeatIsPublished(connection, options.publication) {
                    try connection.simpleQuery("ALTER PUBLICATION \(quotedPublication) ADD TABLE \(heartbeat)")
                    notes.append("added \(heartbeat) to publication \(options.publication), so heartbeats reach the stream")
                }
            }
            if existingSlot != nil {
                notes.append("replication slot \(options.slot) already exists; left as it is")
            } else {
                let created = try connection.query(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", [options.slot])
                notes.append("created replication slot \(options.slot) at \(created.scalar ?? "?")")
            }
            for table in try tablesWithoutKey(connection, publication: options.publication) {
                notes.append(
                    "warning: \(table) has no primary key and REPLICA IDENTITY DEFAULT: its UPDATE and DELETE statements "
                        + "will fail while it is published; run ALTER TABLE \(table) REPLICA IDENTITY FULL")
            }
            return notes
        }
    }

    private static func tablesWithoutKey(_ connection: PostgresConnection, publication: String) throws(PostgresError) -> [String] {
        try connection.query(
            """
            SELECT format('%I.%I', p.schemaname, p.tablename)
              FROM pg_publication_tables p
              JOIN pg_class c ON c.relname = p.tablename
              JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname
             WHERE p.pubname = $1 AND c.relreplident = 'd'
               AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
             ORDER BY 1
            """, [publication]
        ).rows.compactMap { $0[0] }
    }
}
