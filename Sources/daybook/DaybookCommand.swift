import ArgumentParser

@main
struct DaybookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daybook",
        abstract: "Daily, final, exactly-once change summaries from PostgreSQL logical replication.",
        discussion: """
            Daybook reads a pgoutput replication slot, puts every committed change into a daily window by its \
            commit time, and writes each window's final per-table and per-key results once stream time has \
            passed the window's end plus the grace period. A heartbeat (`daybook heartbeat`, from cron) moves \
            stream time on a quiet database.

            First time: `daybook migrate` (the daybook schema in the sink), `daybook setup` (publication, slot, \
            heartbeat table in the source), then `daybook run`. `daybook capture TABLE values` keeps a table's \
            values, not only its keys.

            Connections: --database takes a libpq connection string or URI (or set DAYBOOK_DATABASE); what it \
            leaves out comes from PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASSWORD, as for psql. --sink (or \
            DAYBOOK_SINK) defaults to the same database.

            Exit status: 0 success, 64 invalid arguments, 2 configuration conflicts (e.g. a different --window \
            than the slot was summarised with), 3 cannot connect or log in, 4 setup \
            missing (slot, publication, migrations, wal_level), 1 anything else.
            """,
        subcommands: [
            SetupCommand.self, MigrateCommand.self, RunCommand.self, HeartbeatCommand.self, ReportCommand.self,
            DigestCommand.self, NotifyCommand.self, StatusCommand.self, CaptureCommand.self, PruneCommand.self,
            ServeCommand.self, ForgetCommand.self,
        ]
    )
}
