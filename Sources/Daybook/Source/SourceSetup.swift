import DaybookCore
import Foundation
import PostgresReplication
import Synchronization

/// `daybook setup`: the heartbeat table, the publication and the slot, in the source database.
///
/// When the source is a physical standby (PostgreSQL 16 and later), the slot is made there and
/// the rest on its primary (`--primary`), which a standby replays.
public enum SourceSetup {
    public struct Options: Sendable {
        public var slot: String
        public var publication: String
        /// Publish every table in these schemas (PostgreSQL 15 `TABLES IN SCHEMA`).
        public var schemas: [String]
        /// Or publish exactly these tables (`schema.table` or `table`).
        public var tables: [String]
        /// Create the slot as a failover slot (PostgreSQL 17): standbys with
        /// `sync_replication_slots = on` keep a copy that a promoted standby continues.
        public var failover = false
        /// Attach the statement trigger (``SourceAttribution``) to every published table.
        public var attribute = false

        public init(
            slot: String,
            publication: String,
            schemas: [String],
            tables: [String],
            failover: Bool = false,
            attribute: Bool = false
        ) {
            self.slot = slot
            self.publication = publication
            self.schemas = schemas
            self.tables = tables
            self.failover = failover
            self.attribute = attribute
        }
    }

    /// What setup did and what it noticed, one line each, for the operator.
    ///
    /// - Parameter primary: the primary's connection, needed when `connection` is a standby.
    public static func run(
        on connection: PostgresConnection,
        options: Options,
        primary: ConnectionString? = nil
    ) throws(DaybookError) -> [String] {
        try DaybookError.mapping(role: .source) {
            var notes: [String] = []
            try SourceChecks.requireSupportedVersion(connection)
            // Where the heartbeat table and the publication are made: a standby takes no writes.
            var writable = connection
            let standby = try SourceChecks.isStandby(connection)
            if options.failover {
                guard connection.serverVersion >= SourceChecks.lowestFailoverSlotVersion else {
                    throw DaybookError(
                        .unsupportedServer,
                        "failover slots need PostgreSQL 17 or later; this server is "
                            + "\(SourceChecks.versionText(connection.serverVersion)): drop --failover (after a failover the "
                            + "slot is then lost and must be made again, with a gap)"
                    )
                }
                guard !standby else {
                    throw DaybookError(
                        .configuration,
                        "--failover slots are made on the primary (its standbys copy them with sync_replication_slots = on): "
                            + "point --database at the primary"
                    )
                }
            }
            if standby {
                try SourceChecks.requireDecodingStandby(connection)
                guard let primary else {
                    throw DaybookError(
                        .configuration,
                        "the source server is a standby: the heartbeat table and the publication must be created on its "
                            + "primary; add --primary with the primary's connection (setup makes the slot here and the rest there)"
                    )
                }
                writable = try PostgresConnection.open(primary, role: .primary)
                try SourceChecks.requireLogicalDecoding(writable, consequence: " (the primary of this standby)")
            }
            try SourceChecks.requireLogicalDecoding(connection)
            let slot = try connection.query(
                "SELECT plugin, database, current_database()\(connection.serverVersion >= SourceChecks.lowestFailoverSlotVersion ? ", failover" : "") "
                    + "FROM pg_replication_slots WHERE slot_name = $1",
                [options.slot]
            )
            let existingSlot = slot.rows.first
            if let row = existingSlot {
                if row[0] != "pgoutput" {
                    throw DaybookError(
                        .configuration,
                        "slot \(options.slot) exists with plugin \(row[0] ?? "?"), not pgoutput: choose another --slot"
                    )
                }
                if row[1] != row[2] {
                    throw DaybookError(
                        .configuration,
                        "slot \(options.slot) belongs to database \(row[1] ?? "?") (slot names are per server): choose another --slot"
                    )
                }
            }
            try writable.simpleQuery(Heartbeat.createTableSQL)
            try SourceAttribution.installFunctions(writable)
            let heartbeat = "daybook.heartbeat"
            let quotedPublication = connection.quoteIdentifier(options.publication)
            if try !SourceChecks.publicationExists(writable, options.publication) {
                let target: String
                if !options.tables.isEmpty {
                    let tables = options.tables.map(connection.quoteQualifiedName) + [heartbeat]
                    target = "TABLE " + tables.joined(separator: ", ")
                } else {
                    let schemas = (options.schemas.isEmpty ? ["public"] : options.schemas).map(
                        connection.quoteIdentifier
                    )
                    target = "TABLES IN SCHEMA " + schemas.joined(separator: ", ") + ", TABLE \(heartbeat)"
                }
                try writable.simpleQuery("CREATE PUBLICATION \(quotedPublication) FOR \(target)")
                notes.append("created publication \(options.publication)\(standby ? " on the primary" : "")")
            } else {
                notes.append("publication \(options.publication) already exists; left as it is")
                if try !SourceChecks.heartbeatIsPublished(writable, options.publication) {
                    try writable.simpleQuery("ALTER PUBLICATION \(quotedPublication) ADD TABLE \(heartbeat)")
                    notes.append(
                        "added \(heartbeat) to publication \(options.publication), so heartbeats reach the stream"
                    )
                }
            }
            if options.attribute {
                let tables = try SourceAttribution.publishedTables(options.publication, on: writable)
                notes += try SourceAttribution.setTrigger(on: tables, attached: true, connection: writable)
            }
            if standby { try waitForReplay(of: options.publication, on: connection) }
            if existingSlot != nil {
                notes.append("replication slot \(options.slot) already exists; left as it is")
            } else if standby, let primary {
                let lsn = try createSlotOnStandby(options.slot, connection, nudging: primary)
                notes.append("created replication slot \(options.slot) on the standby at \(lsn ?? "?")")
                notes.append(
                    "the source is a standby: write heartbeats to the primary (`daybook heartbeat --database PRIMARY`, "
                        + "or `daybook run --primary PRIMARY --heartbeat-every 5m`); keep hot_standby_feedback = on here"
                )
            } else if options.failover {
                // (name, plugin, temporary, two_phase, failover)
                let created = try connection.query(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput', false, false, true)",
                    [options.slot]
                )
                notes.append("created failover replication slot \(options.slot) at \(created.scalar ?? "?")")
                notes.append(contentsOf: try failoverNotes(connection))
            } else {
                let created = try connection.query(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
                    [options.slot]
                )
                notes.append("created replication slot \(options.slot) at \(created.scalar ?? "?")")
            }
            if let row = existingSlot, options.failover, row.count > 3, row[3] != "t" {
                notes.append(
                    "warning: slot \(options.slot) exists and is not a failover slot: drop it and run setup --failover again "
                        + "(or ALTER_REPLICATION_SLOT \(options.slot) (FAILOVER true) on a replication connection)"
                )
            }
            for table in try tablesWithoutKey(connection, publication: options.publication) {
                notes.append(
                    "warning: \(table) has no primary key and REPLICA IDENTITY DEFAULT: its UPDATE and DELETE statements "
                        + "will fail while it is published; run ALTER TABLE \(table) REPLICA IDENTITY FULL"
                )
            }
            return notes
        }
    }

    /// What the primary and its standbys need for a failover slot to be continued.
    private static func failoverNotes(_ primary: PostgresConnection) throws -> [String] {
        var notes = [
            "for a failover: on each standby sync_replication_slots = on, hot_standby_feedback = on, primary_slot_name, "
                + "and dbname in primary_conninfo; run daybook with every host in --database and target_session_attrs=read-write"
        ]
        let synchronized = try primary.simpleQuery("SHOW synchronized_standby_slots").scalar ?? ""
        if synchronized.isEmpty {
            notes.append(
                "warning: synchronized_standby_slots is empty on this primary: it may send Daybook changes its standbys have "
                    + "not received, which a failover then loses; set it to the standbys' physical slots"
            )
        }
        return notes
    }

    /// Waits until the standby has replayed what setup made on the primary (the publication).
    private static func waitForReplay(of publication: String, on standby: PostgresConnection) throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try !SourceChecks.publicationExists(standby, publication) {
            guard ContinuousClock.now < deadline else {
                throw DaybookError(
                    .standbyNotReady,
                    "the standby has not replayed publication \(publication) from the primary within 60 s: check that it "
                        + "replicates from the server given as --primary"
                )
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Creates the slot on a standby. That waits for the primary's next record of running
    /// transactions; the primary writes one on its own only every 15 s and only while busy,
    /// so a helper asks for one (`pg_log_standby_snapshot()`) every half second meanwhile.
    /// Without the right to call it, creation still finishes at the primary's next record.
    private static func createSlotOnStandby(
        _ slot: String,
        _ standby: PostgresConnection,
        nudging primary: ConnectionString
    ) throws -> String? {
        let done = SetupFlag()
        let nudger = Thread {
            guard let connection = try? PostgresConnection(primary) else { return }
            while !done.isSet {
                _ = try? connection.simpleQuery("SELECT pg_log_standby_snapshot()")
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        nudger.start()
        defer { done.set() }
        return try standby.query("SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
            .scalar
    }

    private static func tablesWithoutKey(
        _ connection: PostgresConnection,
        publication: String
    ) throws(PostgresError) -> [String] {
        try connection.query(
            """
            SELECT format('%I.%I', p.schemaname, p.tablename)
              FROM pg_publication_tables p
              JOIN pg_class c ON c.relname = p.tablename
              JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.schemaname
             WHERE p.pubname = $1 AND c.relreplident = 'd'
               AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
             ORDER BY 1
            """,
            [publication]
        ).rows.compactMap { $0[0] }
    }
}

/// A one-way flag shared with a helper thread.
private final class SetupFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
