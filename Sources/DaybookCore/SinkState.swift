import PgOutput
import WAL
import Windowing

/// What the sink knows about one slot's stream: the resume point and the window state that
/// a restart continues from.
public struct SinkState: Sendable {
    /// Commit end LSN of the last transaction in the sink (0 before the first checkpoint).
    public var lsn: LSN
    public var streamTime: Timestamp?
    public var windowLength: String?
    public var timeZone: String?
    public var openWindows: [Window]
    /// The latest end of a closed window: windows ending at or before it stay closed.
    public var closedThrough: Timestamp?
    /// Commit time of the latest heartbeat the stream carried.
    public var lastHeartbeat: Timestamp?
    /// The slot's capture rules (``CaptureRule``), oldest first.
    public var captureRules: [CaptureRule] = []
    /// The source server's timeline when the checkpoint was written (nil before schema 9).
    public var timeline: Int?
    /// The latest shape the sink kept of each table (``TableShape``).
    public var tableShapes: [Relation] = []

    public init(
        lsn: LSN,
        streamTime: Timestamp?,
        windowLength: String?,
        timeZone: String?,
        openWindows: [Window],
        closedThrough: Timestamp?,
        lastHeartbeat: Timestamp?,
        captureRules: [CaptureRule] = [],
        timeline: Int?,
        tableShapes: [Relation] = []
    ) {
        self.lsn = lsn
        self.streamTime = streamTime
        self.windowLength = windowLength
        self.timeZone = timeZone
        self.openWindows = openWindows
        self.closedThrough = closedThrough
        self.lastHeartbeat = lastHeartbeat
        self.captureRules = captureRules
        self.timeline = timeline
        self.tableShapes = tableShapes
    }
}
