/// The morning digest of one day: per slot, what was unusual, what changed shape and what is
/// still open, so that a reader at 8 a.m. reads a page instead of forty tables of counts.
///
/// It is one value that every front end renders (`daybook digest`, `GET /api/v1/digest`, the
/// dashboard, and later the deliveries): the query layer builds it from the sink, the
/// renderers (``DigestRendering``) only format it. Its JSON (``DaybookJSON``) is a stable,
/// versioned contract: fields are added, never renamed or removed, within a
/// ``Digest/currentVersion``.
public struct Digest: Codable, Sendable, Equatable {
    /// The version of this document's shape; a change that is not an addition raises it.
    public static let currentVersion = 1

    public var digestVersion: Int
    /// The day asked for (`YYYY-MM-DD`), when the digest was asked for a day.
    public var date: String?
    /// One section per slot, by slot name.
    public var slots: [Slot]

    public init(date: String?, slots: [Slot]) {
        self.digestVersion = Self.currentVersion
        self.date = date
        self.slots = slots
    }

    /// One slot's window of the day.
    public struct Slot: Codable, Sendable, Equatable {
        public var slot: String
        public var timeZone: String
        public var window: WindowState
        public var headline: Headline
        /// Every table that changed in the window or in its history, the unusual ones first.
        public var tables: [Table]
        /// What changed shape in the window, in stream order.
        public var schemaChanges: [SchemaChangeNote]
        /// Commits the sink lost (`run --accept-gap`) that may touch this window.
        public var incomplete: [String]
        /// The rule the verdicts were made by.
        public var rule: RuleSettings

        public init(
            slot: String,
            timeZone: String,
            window: WindowState,
            headline: Headline,
            tables: [Table],
            schemaChanges: [SchemaChangeNote],
            incomplete: [String],
            rule: RuleSettings
        ) {
            self.slot = slot
            self.timeZone = timeZone
            self.window = window
            self.headline = headline
            self.tables = tables
            self.schemaChanges = schemaChanges
            self.incomplete = incomplete
            self.rule = rule
        }
    }

    /// Whether the window's figures are final, and if not, why not.
    public struct WindowState: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable {
            /// Final: the grace period passed.
            case closed
            /// Still taking changes; ``closesAt`` says when it closes.
            case open
            /// Closed, and its results were removed by `daybook prune --all`.
            case pruned
            /// No window: the day is before the first window Daybook summarised for the slot.
            case none
        }

        public var start: String
        public var end: String
        public var state: State
        /// When stream time reaches this, the window closes (open windows).
        public var closesAt: String?
        public var closedAt: String?
        /// `data`, `heartbeat` or `startup`.
        public var closedBy: String?
        /// For an open window: the slot's stream time, and how long ago the last heartbeat
        /// reached the stream, so that a reader knows whether it is coming.
        public var streamTime: String?
        public var lastHeartbeatAgo: String?

        public init(start: String, end: String, state: State) {
            self.start = start
            self.end = end
            self.state = state
        }
    }

    /// The first lines: what a reader must not miss.
    public struct Headline: Codable, Sendable, Equatable {
        /// Changes of every table in the window (inserts, updates, deletes and truncates).
        public var changes: Int
        /// Tables that changed in the window.
        public var tablesChanged: Int
        public var unusual: [String]
        public var silent: [String]
        public var new: [String]
        /// TRUNCATEs and mass deletes, listed first.
        public var massChanges: [MassChange]
        /// Tables whose shape changed in the window.
        public var schemaChanged: [String]
        /// Changes that arrived after the window had closed (kept apart, never merged).
        public var lateChanges: Int
        /// Earlier windows of the slot that are still open (a stuck stream shows here).
        public var openWindows: [OpenWindow]

        public init(
            changes: Int = 0,
            tablesChanged: Int = 0,
            unusual: [String] = [],
            silent: [String] = [],
            new: [String] = [],
            massChanges: [MassChange] = [],
            schemaChanged: [String] = [],
            lateChanges: Int = 0,
            openWindows: [OpenWindow] = []
        ) {
            self.changes = changes
            self.tablesChanged = tablesChanged
            self.unusual = unusual
            self.silent = silent
            self.new = new
            self.massChanges = massChanges
            self.schemaChanged = schemaChanged
            self.lateChanges = lateChanges
            self.openWindows = openWindows
        }
    }

    /// A window of the slot, older than the digest's, that has not closed.
    public struct OpenWindow: Codable, Sendable, Equatable {
        public var start: String
        public var closesAt: String

        public init(start: String, closesAt: String) {
            self.start = start
            self.closesAt = closesAt
        }
    }

    /// A TRUNCATE, or deletes that removed a large share of a table.
    public struct MassChange: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            case truncate
            case massDelete = "mass_delete"
        }

        public var table: String
        public var kind: Kind
        /// TRUNCATEs, or rows deleted.
        public var count: Int
        /// The deleted rows' share of the table before the window (mass deletes).
        public var share: Double?

        public init(table: String, kind: Kind, count: Int, share: Double? = nil) {
            self.table = table
            self.kind = kind
            self.count = count
            self.share = share
        }
    }

    /// One table's window against its history.
    public struct Table: Codable, Sendable, Equatable {
        public enum Verdict: String, Codable, Sendable {
            /// At least one figure outside its expected range.
            case unusual
            /// Every figure within its expected range.
            case usual
            /// Changed in most windows of its history, not at all in this one.
            case silent
            /// Its first changes.
            case new
            /// Too little history to tell.
            case notEnoughHistory = "not_enough_history"
            /// Not changed yet in a window that is still open (it may: it is not silent yet).
            case pending
        }

        public var table: String
        public var inserts: Int
        public var updates: Int
        public var deletes: Int
        public var truncates: Int
        public var verdict: Verdict
        /// Each figure against its expected range (verdicts `unusual` and `usual`).
        public var figures: [Figure]
        /// Windows of history the verdict rests on.
        public var historyWindows: Int
        /// Windows of history needed before figures are judged.
        public var historyNeeded: Int
        /// Late changes of this table recorded against the window.
        public var lateChanges: Int
        /// The most-changed keys (their changes in the window), when per-key results are kept.
        public var topKeys: [KeyChanges]
        /// Who changed it: the changes per actor, per application and per replication origin
        /// (the largest few, the rest summed as `(others)`), and the changes nobody claimed.
        public var actors: [Share] = []
        public var applications: [Share] = []
        public var origins: [Share] = []
        public var unattributed: Int = 0

        public init(
            table: String,
            inserts: Int,
            updates: Int,
            deletes: Int,
            truncates: Int,
            verdict: Verdict,
            figures: [Figure],
            historyWindows: Int,
            historyNeeded: Int,
            lateChanges: Int = 0,
            topKeys: [KeyChanges] = []
        ) {
            self.table = table
            self.inserts = inserts
            self.updates = updates
            self.deletes = deletes
            self.truncates = truncates
            self.verdict = verdict
            self.figures = figures
            self.historyWindows = historyWindows
            self.historyNeeded = historyNeeded
            self.lateChanges = lateChanges
            self.topKeys = topKeys
        }

        public var changes: Int { inserts + updates + deletes + truncates }
    }

    /// One figure (inserts, updates, deletes or truncates) and the range that is usual for it.
    public struct Figure: Codable, Sendable, Equatable {
        public var figure: VolumeRule.Figure
        public var value: Int
        public var expectedMin: Int
        public var expectedMax: Int
        public var unusual: Bool
        /// `weekday` (the same weekday's windows) or `trailing` (every window of the span).
        public var basis: VolumeRule.Basis
        /// How many windows the range rests on.
        public var points: Int

        public init(_ verdict: VolumeRule.FigureVerdict) {
            figure = verdict.figure
            value = verdict.value
            expectedMin = verdict.expected.lowerBound
            expectedMax = verdict.expected.upperBound
            unusual = verdict.isUnusual
            basis = verdict.basis
            points = verdict.points
        }
    }

    /// An actor's, application's or origin's part of a table's changes.
    public struct Share: Codable, Sendable, Equatable {
        public var name: String
        public var changes: Int

        public init(name: String, changes: Int) {
            self.name = name
            self.changes = changes
        }
    }

    /// A key and how often it changed.
    public struct KeyChanges: Codable, Sendable, Equatable {
        public var key: JSONValue
        public var changes: Int

        public init(key: JSONValue, changes: Int) {
            self.key = key
            self.changes = changes
        }
    }

    /// One change of a table's shape, at the first change under the new shape.
    public struct SchemaChangeNote: Codable, Sendable, Equatable {
        public var table: String
        /// Commit LSN and time of the first change under the new shape (pgoutput describes a
        /// table again only before its first change after the DDL).
        public var lsn: String
        public var commitTime: String?
        /// `table_seen`, `table_renamed`, `column_added`, `column_dropped`, `column_renamed`,
        /// `column_retyped`, `identity_changed` or `key_changed`.
        public var change: String
        /// The column it is about, when it is about one.
        public var column: String?
        public var from: String?
        public var to: String?

        public init(
            table: String,
            lsn: String,
            commitTime: String?,
            change: String,
            column: String? = nil,
            from: String? = nil,
            to: String? = nil
        ) {
            self.table = table
            self.lsn = lsn
            self.commitTime = commitTime
            self.change = change
            self.column = column
            self.from = from
            self.to = to
        }
    }

    /// The anomaly rule's settings, as the digest was made with them.
    public struct RuleSettings: Codable, Sendable, Equatable {
        public var span: Int
        public var minimumHistory: Int
        public var weekdayMinimum: Int
        public var threshold: Double
        public var absoluteFloor: Int
        public var relativeFloor: Double
        public var silentShare: Double
        public var massDeleteShare: Double
        public var massDeleteMinimum: Int

        public init(_ rule: VolumeRule, massDeletes: MassDeleteRule) {
            span = rule.span
            minimumHistory = rule.minimumHistory
            weekdayMinimum = rule.weekdayMinimum
            threshold = rule.threshold
            absoluteFloor = rule.absoluteFloor
            relativeFloor = rule.relativeFloor
            silentShare = rule.silentShare
            massDeleteShare = massDeletes.share
            massDeleteMinimum = massDeletes.minimum
        }
    }
}
