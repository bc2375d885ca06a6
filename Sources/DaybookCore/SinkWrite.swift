import WAL

/// One sink transaction's worth of work, as the stream session decides it.
///
/// It is a value of the core so that ``StreamStateMachine`` can say what to write without
/// knowing how: the sink's writer carries it out, one at a time and in order.
public enum SinkWrite: Sendable {
    /// The batch since the last checkpoint, the windows it opened and closed, and the LSN the
    /// slot may be confirmed to once it is committed.
    case checkpoint(Checkpoint)
    /// The keyed part of a large open transaction, written ahead of its commit.
    case spill(Spill)
    /// Chunks of streamed transactions, held until their commit.
    case stage([StreamedTransactions.Chunk])
    /// The held chunks of a streamed transaction that rolled back.
    case discardStreamed(xid: UInt32)
    /// The checkpoint moved over an idle stretch: everything before `lsn` is in the sink.
    case advance(lsn: LSN)
}
