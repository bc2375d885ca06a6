import ArgumentParser
import Daybook
import PostgresReplication
import Windowing

struct SetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create the heartbeat table, the publication and the replication slot in the source database.",
        discussion: """
            Publishes every table of the given schemas (default: public), or exactly --tables, plus \
            daybook.heartbeat. On a physical standby (PostgreSQL 16+, hot_standby_feedback = on) it makes the \
            slot there and the heartbeat table and publication on the primary given as --primary. Safe to run again: what exists is left as it is (the heartbeat table is added \
            to an existing publication if missing). Needs a role that may create publications and slots \
            (REPLICATION, or superuser).

            --capture values (with --tables) keeps every change of those tables with its row image, as \
            `daybook capture TABLE values` does; it needs the sink migrated first (`daybook migrate`).
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "Publication name.")
    var publication: String = "daybook"

    @Option(name: .long, parsing: .upToNextOption, help: "Publish all tables of these schemas (default: public).")
    var schemas: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Publish exactly these tables (schema.table).")
    var tables: [String] = []

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Make the slot a failover slot (PostgreSQL 17+): standbys with sync_replication_slots = on keep a copy, so a "
                + "promoted standby continues it."
        )
    )
    var failover = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Attribute every published table's changes to the role and application of each statement (a statement "
                + "trigger: one small WAL record per statement, none per row). daybook.act_as works without it."
        )
    )
    var attribute = false

    @Option(name: .long, help: "Capture level of --tables: counts, keys (the default) or values.")
    var capture: CaptureLevel?

    @Option(
        name: .long,
        parsing: .upToNextOption,
        help: "With --capture values: capture only these columns (the key always)."
    )
    var columns: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "With --capture values: never capture these columns.")
    var excludeColumns: [String] = []

    func validate() throws {
        if !schemas.isEmpty && !tables.isEmpty {
            throw ValidationError("give --schemas or --tables, not both")
        }
        if capture != nil && tables.isEmpty {
            throw ValidationError(
                "--capture sets the level of --tables: name the tables (or use `daybook capture` per table)"
            )
        }
        if capture == nil && (!columns.isEmpty || !excludeColumns.isEmpty) {
            throw ValidationError("--columns and --exclude-columns go with --capture values")
        }
    }

    func run() throws {
        try reportingErrors {
            let source = try connect(connection.source, role: .source)
            // The capture levels are checked before anything is created: all or nothing.
            var capturing: (CaptureSetting.Prepared, sink: PostgresConnection)?
            if let capture {
                let sink = try connect(connection.sinkConnection, role: .sink)
                var request = CaptureSetting.Request(slot: connection.slot, tables: tables, level: capture)
                request.columns = columns.isEmpty ? nil : columns
                request.excludedColumns = excludeColumns
                request.publication = publication
                capturing = (try CaptureSetting.prepare(request, source: source, sink: sink), sink)
            }
            let notes = try SourceSetup.run(
                on: source,
                options: .init(
                    slot: connection.slot,
                    publication: publication,
                    schemas: schemas,
                    tables: tables,
                    failover: failover,
                    attribute: attribute
                ),
                primary: connection.primaryConnection
            )
            for note in notes { print(note) }
            if let (prepared, sink) = capturing {
                // The rule goes into the stream as a message, which only a primary can write.
                let writable =
                    connection.primaryConnection == nil
                    ? source : try connect(connection.writableSource, role: .primary)
                for note in try CaptureSetting.announce(prepared, source: writable, sink: sink) { print(note) }
            }
        }
    }
}
