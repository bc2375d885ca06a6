import WAL
import Windowing

/// Everything one sink transaction writes: the batch of changes, the windows it opened and
/// closed, and the resume point.
///
/// Writing all of it atomically is what makes Daybook exactly once: either the changes, the
/// closed windows and the new LSN are all in the sink, or none is and the slot (never
/// confirmed past the previous checkpoint) sends them again.
public struct Checkpoint: Sendable {
    public var batch: ChangeBatch
    /// Order and validity of the batch's per-key rows.
    public var keyTag: KeyTag
    public var opened: [Window]
    public var closed: [WindowClosure]
    /// Commit end LSN of the last source transaction included.
    public var lsn: LSN
    public var streamTime: Timestamp?
    /// Commit time of the latest heartbeat seen in the stream.
    public var lastHeartbeat: Timestamp?
    /// Source transactions folded in.
    public var transactions: Int
    /// Capture rules announced in the stream since the last checkpoint (the sink keeps them,
    /// so a restart knows them even if `daybook capture` could not record them itself).
    public var captureRules: [CaptureRule] = []
    /// Commit time of the first source transaction included: after a gap the sink accepted,
    /// the latest time its lost commits can have (``Sink/refineGaps(firstCommit:)``).
    public var firstCommitTime: Timestamp?
    /// Tables whose shape differs from the last one the sink kept (first seen, or changed).
    public var tableShapes: [TableShape] = []
    /// The source's row estimate of each table (`pg_class.reltuples`), read when the
    /// checkpoint closes windows that ended recently (``sourceRowsWindows``): the digest
    /// measures mass deletes against it.
    public var sourceRows: [String: Int64] = [:]
    public var sourceRowsWindows: [Window] = []
    /// Attributed changes per window, table and actor (the batch's table names index them).
    public var attribution = AttributionTally()
    /// Actor messages refused since the last checkpoint, by kind.
    public var attributionProblems: [AttributionProblem: Int] = [:]
}

/// Part of a large open transaction's per-key rows and late changes, written ahead of its
/// commit so that memory stays bounded (see ``ChangeProcessor/takeSpill()``).
public struct Spill: Sendable {
    public var keys: KeyDeltaTable
    public var events: ValueEventLog
    public var late: [LateChange]
    /// The batch's interned table names, which `keys` refers to by index.
    public var tableNames: [String]
    public var keyTag: KeyTag
    /// Who made the events' changes: their `actor` indexes this (``AttributionTally``).
    public var attributions: [Attribution] = []
}

/// How the sink orders and validates per-key rows, which it appends rather than updates.
///
/// `lsn` is the commit LSN (Begin's `final_lsn`) of the latest source transaction whose
/// changes the rows hold. Rows count once the checkpoint has passed it (`lsn < checkpoint
/// LSN`, the checkpoint being a commit's end): a checkpoint's own rows at once, the parts of
/// a large transaction written ahead of its commit only once the checkpoint that includes
/// that commit is written. `part` orders those parts, and the final rows after them, among
/// rows with the same `lsn`; a key's operations are its rows' `ops` in (`lsn`, `part`) order.
public struct KeyTag: Hashable, Sendable {
    public var lsn: LSN
    public var part: Int32
    public init(lsn: LSN, part: Int32) {
        self.lsn = lsn
        self.part = part
    }
}
