import ArgumentParser
import Foundation
import PostgresReplication

/// Where the source and sink databases are, and which slot and publication to use.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Source database: a libpq connection string or URI (default: $DAYBOOK_DATABASE, then PG* variables).",
            valueName: "conninfo"
        )
    )
    var database: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Sink database for results and checkpoints (default: $DAYBOOK_SINK, then the source database).",
            valueName: "conninfo"
        )
    )
    var sink: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "When --database is a physical standby (PostgreSQL 16+): its primary, where heartbeats, capture rules and the "
                + "publication are written (default: $DAYBOOK_PRIMARY).",
            valueName: "conninfo"
        )
    )
    var primary: String?

    @Option(
        name: [.customLong("slot")],
        help: "Replication slot name: lower-case letters, digits, underscores (default: $DAYBOOK_SLOT, then daybook)."
    )
    var slotOption: String?

    @Option(
        name: .customLong("require-env"),
        parsing: .singleValue,
        help: ArgumentHelp(
            "Exit 2 unless this environment variable is set and not empty (repeatable). For a service whose settings "
                + "come from an environment file (daybook@.service requires DAYBOOK_DATABASE): a line missing from "
                + "the file is an error, not libpq's defaults.",
            valueName: "name"
        )
    )
    var requiredEnvironment: [String] = []

    /// The slot, from --slot, then DAYBOOK_SLOT (handy in a crontab), then `daybook`.
    var slot: String {
        if let slotOption { return slotOption }
        if let environment = ProcessInfo.processInfo.environment["DAYBOOK_SLOT"], !environment.isEmpty {
            return environment
        }
        return "daybook"
    }

    var source: ConnectionString {
        ConnectionString(database ?? ProcessInfo.processInfo.environment["DAYBOOK_DATABASE"] ?? "")
    }

    /// The primary of a standby source, from --primary or DAYBOOK_PRIMARY; nil without one.
    var primaryConnection: ConnectionString? {
        if let primary { return ConnectionString(primary) }
        if let environment = ProcessInfo.processInfo.environment["DAYBOOK_PRIMARY"], !environment.isEmpty {
            return ConnectionString(environment)
        }
        return nil
    }

    /// Where what must reach the stream is written (heartbeats, capture rules): the primary
    /// when the source is a standby, else the source.
    var writableSource: ConnectionString { primaryConnection ?? source }

    var sinkConnection: ConnectionString {
        if let sink { return ConnectionString(sink) }
        if let environment = ProcessInfo.processInfo.environment["DAYBOOK_SINK"], !environment.isEmpty {
            return ConnectionString(environment)
        }
        // A standby cannot hold results: its primary (same database) can.
        return primaryConnection ?? source
    }

    func validate() throws {
        let environment = ProcessInfo.processInfo.environment
        for name in requiredEnvironment where (environment[name] ?? "").isEmpty {
            printError("\(name) is not set (--require-env): set it in the service's environment file")
            throw ExitCode(2)
        }
        guard !slot.isEmpty, slot.count <= 63,
            slot.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else {
            throw ValidationError(
                "slot '\(slot)' is not a valid slot name: use lower-case letters, digits and underscores"
            )
        }
        if let problem = source.syntaxError() {
            throw ValidationError("--database is not a valid connection string: \(problem)")
        }
        if let problem = sinkConnection.syntaxError() {
            throw ValidationError("--sink is not a valid connection string: \(problem)")
        }
        if let problem = primaryConnection?.syntaxError() {
            throw ValidationError("--primary is not a valid connection string: \(problem)")
        }
    }
}

/// Logging options shared by the long-running commands.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
}
