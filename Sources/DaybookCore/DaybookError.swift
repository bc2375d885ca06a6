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
            case permission, invalidArgument, notFound, unsupportedServer, standbyNotReady, sinkLostCommits
            case localFile
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
        /// A well-formed request for something that is not there (yet): a day in the future, a
        /// table or slot the sink has no results of. Exit 64 as any invalid argument; 404 over HTTP.
        public static let notFound = Code(.notFound)
        /// A source server Daybook does not support (older than ``SourceChecks/lowestSupportedVersion``).
        public static let unsupportedServer = Code(.unsupportedServer)
        /// A physical standby that cannot carry a logical slot as it is set up.
        public static let standbyNotReady = Code(.standbyNotReady)
        /// The slot has confirmed more than the sink holds: the sink lost commits (``SinkGap``).
        public static let sinkLostCommits = Code(.sinkLostCommits)
        /// A file Daybook needs on its own machine cannot be created, written or read (a full
        /// disk, a `TMPDIR` it may not write).
        public static let localFile = Code(.localFile)
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
        case .invalidArgument, .notFound: message
        case .connection: "the database does not answer: see Daybook's log"
        case .authentication: "the database refused Daybook's login: see Daybook's log"
        case .sinkNotMigrated, .sinkNewer:
            "the sink's schema does not match this Daybook: see Daybook's log (daybook migrate)"
        case .permission: "the database refused Daybook a privilege: see Daybook's log"
        default: "the database could not answer this request: see Daybook's log"
        }
    }

    /// Exit status for the command line: 2 for configuration mistakes, 3 for a database that
    /// does not answer (worth retrying: it may be starting), 5 for one that answers and refuses
    /// the connection as configured (password, role, pg_hba.conf, database name, TLS: retrying
    /// cannot help, so `daybook@.service` does not restart on it), 4 for setup an operator must
    /// fix (slot, publication, schema, privileges), 1 for everything else.
    public var exitCode: Int32 {
        switch code {
        case .invalidArgument, .notFound: 64
        case .configuration: 2
        case .connection: isRetryable ? 3 : 5
        case .authentication: 5
        case .notLogical, .slotMissing, .slotInvalid, .slotInUse, .publicationMissing, .sinkNotMigrated, .sinkNewer,
            .heartbeatMissing, .permission, .unsupportedServer, .standbyNotReady, .sinkLostCommits:
            4
        default: 1
        }
    }
}
