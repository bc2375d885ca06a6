import ArgumentParser
import Daybook
import DaybookCore
import PostgresReplication

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

            As a service (the Debian package): `daybook@NAME.service` runs `daybook run` as the daybook user with \
            the settings of /etc/daybook/NAME.env (DAYBOOK_DATABASE, DAYBOOK_SINK, PGPASSFILE, DAYBOOK_RUN_OPTIONS) \
            and reports readiness to systemd; `daybook-heartbeat@NAME.timer` makes a heartbeat every 5 minutes; \
            `daybook-catch-up@NAME.timer` is the nightly alternative to a resident service. Migrations are in \
            /usr/share/daybook/migrations.

            Exit status: 0 success, 64 invalid arguments, 2 configuration conflicts (e.g. a different --window \
            than the slot was summarised with), 3 the database does not answer (worth retrying), 5 the \
            database refuses the connection as configured (password, role, pg_hba.conf, database name, TLS), 4 \
            setup missing (slot, publication, migrations, wal_level), 1 anything else.
            """,
        // Three lines: what a bug report needs (the release, the sink schema it migrates to and
        // reads, and the libpq it loaded, which decides TLS and authentication methods).
        version: """
            daybook \(DaybookRelease.version)
            sink schema version \(Migrator.schemaVersion)
            libpq \(PostgresConnection.libraryVersion)
            """,
        subcommands: [
            SetupCommand.self, MigrateCommand.self, RunCommand.self, HeartbeatCommand.self, ReportCommand.self,
            DigestCommand.self, NotifyCommand.self, StatusCommand.self, CaptureCommand.self, PruneCommand.self,
            ServeCommand.self, ForgetCommand.self,
        ]
    )
}
