import DaybookCore
import Logging
import PostgresReplication
import WAL

/// Everything `daybook run` needs, already validated.
public struct RunConfiguration: Sendable {
    /// The database whose changes are summarised (replication connections go here).
    public var source: ConnectionString
    /// The database that holds the results; often the same as `source`.
    public var sink: ConnectionString
    public var slot: String
    public var publications: [String]
    /// Window settings asked for; the rest comes from the slot's checkpoint.
    public var windows: WindowRequest
    /// Longest time a processed transaction waits before it is checkpointed.
    public var checkpointInterval: Duration = .milliseconds(250)
    /// A checkpoint is written once this many changes are pending (at a transaction boundary).
    public var maxBatchChanges = 50_000
    /// ... or once the pending keys and row images hold this many bytes: wide keys (whole
    /// rows under `REPLICA IDENTITY FULL`) and the rows of `values` tables must not make a
    /// batch of normal length huge.
    public var maxBatchBytes = 64 << 20
    /// At close, a key of a `values` table keeps at most this many events: the first ones
    /// and the last; the rest are counted as left out (its counts and `changed` stay whole).
    public var maxEventsPerKey = 1_000
    /// Per open window, the most memory for remembering written keys (see ``SeenKeys``).
    public var keyMemoryBytes = 64 << 20
    /// Prune the per-key results of windows older than this whenever windows close.
    public var pruneKeep: Duration?
    /// How often a status update is sent to the server even when nothing happens.
    public var statusInterval: Duration = .seconds(10)
    /// Stop once everything the server had written when the run started is in the sink.
    public var untilCaughtUp = false
    /// With ``untilCaughtUp``: stop at this WAL position instead of the server's at the start.
    public var untilLSN: LSN?
    /// Go on when the sink lost commits the slot had confirmed, recording the gap (``SinkGap``),
    /// instead of refusing.
    public var acceptGap = false
    /// Let the server's clock move stream time while the stream is fully caught up.
    public var idleWatermark = false
    /// Ask the server to stream large transactions while they run (pgoutput protocol 2)
    /// instead of decoding each whole after its commit; see ``StreamedTransactions``.
    public var streamLargeTransactions = true
    /// Whether this run writes heartbeats to the source itself (`--heartbeat-every` without
    /// `--primary`), which a standby source cannot take.
    public var heartbeatsToSource = false
    /// Messages of streamed transactions held in memory before they are written to the sink.
    public var streamHoldBytes = 8 << 20
    /// When a backlog is read through SQL decoding instead of the stream, and in what ranges.
    public var backlog = BacklogPlan()
    public var processor = ChangeProcessor.Settings()

    public init(
        source: ConnectionString,
        sink: ConnectionString,
        slot: String,
        publications: [String],
        windows: WindowRequest
    ) {
        self.source = source
        self.sink = sink
        self.slot = slot
        self.publications = publications
        self.windows = windows
    }
}

/// Log metadata keys, in one place so that dashboards can rely on them.
enum LogKey {
    static let slot = "daybook.slot"
    static let lsn = "daybook.lsn"
    static let windowStart = "daybook.window_start"
    static let windowEnd = "daybook.window_end"
    static let reason = "daybook.closed_by"
    /// Why Daybook chose a slower way (backlog mode not possible).
    static let why = "daybook.why"
    static let changes = "daybook.changes"
    static let transactions = "daybook.transactions"
    static let streamTime = "daybook.stream_time"
    static let error = "daybook.error"
    static let attempt = "daybook.attempt"
    static let source = "daybook.source"
    static let sink = "daybook.sink"
    static let keys = "daybook.keys"
    static let sinkMilliseconds = "daybook.sink_ms"
}
