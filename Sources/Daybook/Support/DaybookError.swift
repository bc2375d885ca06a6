import PostgresReplication

/// An error shown to the operator: what went wrong, and what to do about it.
///
/// Every message fits on one line, names the fix, and never contains a password or a
/// connection string. `isRetryable` separates faults worth waiting out (a dropped
/// connection) from ones that need a person (a missing slot).
public struct DaybookError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case configuration, connection, authentication, notLogical, slotMissing, slotInUse, slotInvalid
            case publicationMissing, sinkNotMigrated, sinkNewer, sinkConflict, heartbeatMissing, malformedStream, query
            case permission, invalidArgument, unsupportedServer, standbyNotReady, sinkLostCommits
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public static let configuration = Code(.configuration)
        public static let connection = Code(.connection)
        public static let authentication = Code(.authentication)
        public static let notLogical = Code(.notLogical)
        public static let slotMissing = Code(.slotMissing)
        public static let slotInUse = Code(.slotInUse)
        public static let slotInvalid = Code(.slotInvalid)
        public static let publicationMissing = Code(.publicationMissing)
        public static let sinkNotMigrated = Code(.sinkNotMigrated)
        public static let sinkNewer = Code(.sinkNewer)
        public static let sinkConflict = Code(.sinkConflict)
        public static let heartbeatMissing = Code(.heartbeatMissing)
        public static let malformedStream = Code(.malformedStream)
        public static let query = Code(.query)
        /// The role may log in but lacks a right it needs (REPLICATION, a privilege).
        public static let permission = Code(.permission)
        /// A value given on the command line that only the server could check (a date, a
        /// time zone name): exit 64, like any other invalid argument.
        public static let invalidArgument = Code(.invalidArgument)
        /// A source server Daybook does not support (older than ``SourceChecks/lowestSupportedVersion``).
        public static let unsupportedServer = Code(.unsupportedServer)
        /// A physical standby that cannot carry a logical slot as it is set up.
        public static let standbyNotReady = Code(.standbyNotReady)
        /// The slot has confirmed more than the sink holds: the sink lost commits (``SinkGap``).
        public static let sinkLostCommits = Code(.sinkLostCommits)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// Whether waiting and trying again may help (the service does so with backoff).
    public let isRetryable: Bool

    public init(_ code: Code, _ message: String, retryable: Bool = false) {
        self.code = code
        self.message = message
        self.isRetryable = retryable
    }

    public var description: String { message }

    /// What an HTTP client may be told: the kind of trouble and where to look, never the
    /// message itself, which can carry a server's error text with its statement and
    /// parameters, or the host, port and role of a connection. The operator reads the
    /// message in the log; the client learns that the sink (or source) is unwell.
    public var publicMessage: String {
        switch code {
        case .invalidArgument: message
        case .connection: "the database does not answer: see Daybook's log"
        case .authentication: "the database refused Daybook's login: see Daybook's log"
        case .sinkNotMigrated, .sinkNewer:
            "the sink's schema does not match this Daybook: see Daybook's log (daybook migrate)"
        case .permission: "the database refused Daybook a privilege: see Daybook's log"
        default: "the database could not answer this request: see Daybook's log"
        }
    }

    /// Exit status for the command line: 2 for configuration mistakes, 3 for connection
    /// problems, 4 for setup an operator must fix (slot, publication, schema, privileges),
    /// 1 for everything else.
    public var exitCode: Int32 {
        switch code {
        case .invalidArgument: 64
        case .configuration: 2
        case .connection, .authentication: 3
        case .notLogical, .slotMissing, .slotInvalid, .slotInUse, .publicationMissing, .sinkNotMigrated, .sinkNewer,
            .heartbeatMissing, .permission, .unsupportedServer, .standbyNotReady, .sinkLostCommits:
            4
        default: 1
        }
    }

    /// Turns a libpq error into advice. `role` says which database it was ("source", "sink").
    public static func from(_ error: PostgresError, role: String) -> DaybookError {
        let text = error.message
        if error.code == .connection {
            if text.contains("password authentication failed") || text.contains("no password supplied") {
                return DaybookError(
                    .authentication,
                    "cannot log in to the \(role) database: \(text) — check the user and password "
                        + "(PGPASSWORD, ~/.pgpass or the connection string)"
                )
            }
            if text.contains("must be superuser or replication role")
                || text.contains("permission denied to start WAL sender")
            {
                return DaybookError(
                    .permission,
                    "the \(role) role may not stream changes: \(text) — give it the REPLICATION attribute "
                        + "(ALTER ROLE … REPLICATION) or connect as a role that has it"
                )
            }
            if text.contains("rejects connection") && (text.contains("no encryption") || text.contains("SSL off")) {
                return DaybookError(
                    .connection,
                    "the \(role) server accepts only TLS connections: \(text) — add sslmode=require (or verify-full with "
                        + "sslrootcert) to the connection string"
                )
            }
            if text.contains("no pg_hba.conf entry") {
                return DaybookError(
                    .authentication,
                    "the \(role) server does not let this role connect: \(text) — add a matching line to pg_hba.conf "
                        + "(a `host` line covers replication=database connections too) and reload PostgreSQL"
                )
            }
            if text.contains("role") && text.contains("does not exist") {
                return DaybookError(
                    .authentication,
                    "cannot log in to the \(role) database: \(text) — check the user name"
                )
            }
            if text.contains("Peer authentication failed") || text.contains("Ident authentication failed") {
                return DaybookError(
                    .authentication,
                    "cannot log in to the \(role) database: \(text) — connect over TCP (host=127.0.0.1) with a password, "
                        + "or as the matching operating-system user"
                )
            }
            if text.contains("does not exist") && text.contains("database") {
                return DaybookError(
                    .connection,
                    "cannot connect to the \(role) database: \(text) — check the database name"
                )
            }
            return DaybookError(
                .connection,
                "cannot reach the \(role) database: \(text) — check that PostgreSQL is running and the host and port "
                    + "(--database / --sink, or PGHOST and PGPORT)",
                retryable: true
            )
        }
        switch error.sqlState {
        case "55006":
            return DaybookError(
                .slotInUse,
                "\(text) — another consumer (perhaps another daybook run) is using the slot; stop it first",
                retryable: true
            )
        case "42501":
            return DaybookError(
                .permission,
                "permission denied in the \(role) database: \(text) — see the README's section on roles"
            )
        case "57P01", "57P02", "57P03", "08006", "08003", "08000":
            return DaybookError(.connection, "the \(role) database went away: \(text)", retryable: true)
        case let state? where state.hasPrefix("40") || state.hasPrefix("53") || state == "55P03" || state == "57014":
            // Deadlocks, serialization failures, lock timeouts, cancels, full disks: worth waiting out.
            return DaybookError(
                .query,
                "the \(role) database could not finish a statement: \(error.description)",
                retryable: true
            )
        default:
            if error.code == .replication {
                return DaybookError(.connection, "the replication stream stopped: \(text)", retryable: true)
            }
            return DaybookError(.query, "the \(role) database refused a statement: \(error.description)")
        }
    }
}
