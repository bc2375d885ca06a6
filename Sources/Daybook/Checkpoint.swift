import Windowing

/// Everything one sink transaction writes: the batch of changes, the windows it opened and
/// closed, and the resume point.
///
/// Writing all of it atomically is what makes Daybook exactly once: either the changes, the
/// closed windows and the new LSN are all in the sink, or none is and the slot (never
/// confirmed past the previous checkpoint) sends them again.
public struct Checkpoint: Sendable {
    public var batch: ChangeBatch
    public var opened: [Window]
    public var closed: [WindowClosure]
    /// Commit end LSN of the last source transaction included.
    public var lsn: UInt64
    public var streamTime: Timestamp?
    /// Commit time of the latest heartbeat seen in the stream.
    public var lastHeartbeat: Timestamp?
    /// Source transactions folded in.
    public var transactions: Int
}
