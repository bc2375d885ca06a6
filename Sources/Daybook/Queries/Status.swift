/// What `daybook status` knows about a slot, as values: the CLI prints it as lines
/// (``StatusReport/lines(of:)``) or JSON, and the HTTP API serves the same object. Times are
/// ISO 8601 in the slot's time zone, durations PostgreSQL's interval text.
public struct Status: Sendable, Codable, Equatable {
    /// The replication slot as the source sees it.
    public struct ReplicationSlot: Sendable, Codable, Equatable {
        public var exists: Bool
        public var active: Bool?
        public var activePid: Int?
        public var confirmedLsn: String?
        public var walStatus: String?
        /// Retained WAL, readable (`16 MB`) and in bytes.
        public var retainedWal: String?
        public var retainedWalBytes: Int64?
        /// How Daybook reads the slot now: `streaming` (a walsender holds it), `backlog` (a
        /// backlog read through SQL decoding, backlog mode), or nil when nobody reads it.
        public var readMode: String?
    }

    /// The source's heartbeat table.
    public struct HeartbeatTable: Sendable, Codable, Equatable {
        public var lastWrittenAt: String?
        public var age: String?
        public var beats: Int64
        /// Whether `daybook.heartbeat` is in the publication (else its updates never arrive).
        public var published: Bool
    }

    /// The sink's checkpoint for the slot.
    public struct Checkpoint: Sendable, Codable, Equatable {
        public var lsn: String
        public var writtenAt: String?
        public var streamTime: String?
        public var windowLength: String
        public var grace: String
        public var timeZone: String
        public var lastHeartbeatAt: String?
        public var lastHeartbeatAge: String?
    }

    public struct OpenWindow: Sendable, Codable, Equatable {
        public var windowStart: String
        public var windowEnd: String
        /// Stream time at which it closes: its end plus grace.
        public var closesAt: String
        /// How much stream time is still missing (negative once due, until the next checkpoint).
        public var streamTimeUntilClose: String?
    }

    public struct ClosingWindow: Sendable, Codable, Equatable {
        public var windowStart: String
        public var windowEnd: String
        public var closedBy: String?
    }

    public struct TableCapture: Sendable, Codable, Equatable {
        public var table: String
        public var level: String
        public var sinceLsn: String
        public var columns: [String]?
        public var excludedColumns: [String]
        /// Stored as keyed hashes (HMAC-SHA256), never as values.
        public var hashedColumns: [String] = []
        /// Shown as `(masked)`, never stored.
        public var maskedColumns: [String] = []
        /// The hash key's id (``ValueKey/id``), never the key.
        public var keyId: String?
    }

    public var slot: String
    /// Why the source could not be asked, when it could not (the sink's part still shows).
    public var sourceError: String?
    public var replicationSlot: ReplicationSlot?
    /// The source's clock when asked, in UTC (what stream time is compared with).
    public var sourceClock: String?
    public var heartbeatTable: HeartbeatTable?
    public var checkpoint: Checkpoint?
    public var openWindows: [OpenWindow] = []
    public var closingWindows: [ClosingWindow] = []
    public var closedWindows: Int = 0
    public var lastClosedWindowEnd: String?
    /// Tables whose level is set; every other table is at `keys`.
    public var captureLevels: [TableCapture] = []
    /// Gaps the operator accepted (`run --accept-gap`): the windows they may touch are incomplete.
    public var gaps: [Gap] = []
    /// Where the slot's closed days are delivered (`daybook notify`), and how that stands.
    public var destinations: [DestinationStatus] = []
    /// What needs a person, each saying what to do.
    public var warnings: [String] = []

    public init(slot: String) { self.slot = slot }
}
