import PgOutput
import WAL
import Windowing

/// What the stream session decides, without doing any of it: when to write a checkpoint or
/// a spill, what to confirm to the slot, when a status update is due, when to ask the server
/// for its clock, when a run is over. Events go in (a message or keepalive arrived, a write
/// committed, the sink is behind, a stop was asked for); actions come out, and the session's
/// I/O loop only carries them out, as postgres-nio's `ConnectionStateMachine` does for its
/// channel handler.
///
/// Why a state machine: these decisions are where exactly once lives (the slot is never told
/// more than the sink committed), and as values they are tested as straight lines of events
/// and actions, without a server or a clock. Time comes in as `now` arguments; the machine
/// never reads a clock itself.
///
/// The stream loop calls ``nextAction(now:stopRequested:)`` until it says
/// ``Action/read(timeout:)``, reads one frame and reports it; the backlog reader, which has no
/// stream to answer, uses the single decisions (``checkpointIfDue(now:force:)``,
/// ``spillIfDue()``, ``advanceIfIdle(to:)``) directly. Most turns while data flows return
/// `read` at once and allocate nothing.
public struct StreamStateMachine: Sendable {
    /// The run's limits and intervals.
    public struct Settings: Sendable, Equatable {
        /// A checkpoint waits at most this long after its first change.
        public var checkpointInterval: Duration
        /// How often the server hears from a session with nothing else to say.
        public var statusInterval: Duration
        /// A checkpoint (or, inside a large transaction, a spill) is due at this many changes…
        public var maxBatchChanges: Int
        /// …or at this many bytes of keys.
        public var maxBatchBytes: Int
        /// Ask the server for its clock when idle, so that stream time moves without data.
        public var idleWatermark: Bool
        /// A run with an end (`--until-caught-up`, `--until-lsn`) stops once everything up to
        /// this position has been received and written.
        public var runEnd: LSN?

        public init(
            checkpointInterval: Duration,
            statusInterval: Duration,
            maxBatchChanges: Int,
            maxBatchBytes: Int,
            idleWatermark: Bool,
            runEnd: LSN?
        ) {
            self.checkpointInterval = checkpointInterval
            self.statusInterval = statusInterval
            self.maxBatchChanges = maxBatchChanges
            self.maxBatchBytes = maxBatchBytes
            self.idleWatermark = idleWatermark
            self.runEnd = runEnd
        }

        /// How often a status goes out: a run with an end, or one probing for an idle
        /// watermark, asks for replies often so that it notices the server's position soon.
        var statusEvery: Duration {
            runEnd != nil ? .milliseconds(200) : idleWatermark ? .milliseconds(500) : statusInterval
        }
    }

    /// One thing for the I/O loop to do.
    public enum Action: Sendable {
        /// Hand this write to the sink's writer (it commits on its own thread).
        case write(SinkWrite)
        /// Send this Standby Status Update.
        case sendStatus(StatusUpdate)
        /// Read the server's clock and WAL insert position together, then report them with
        /// ``idleProbed(serverTime:insertPosition:)``.
        case probeIdleWatermark
        /// Wait at most this long for the next frame.
        case read(timeout: Duration)
        /// Wait until every write is committed, confirm it, and end the session.
        case finish(Finish)
    }

    /// Why a session ends.
    public enum Finish: Sendable, Equatable {
        /// A stop was asked for (a signal).
        case stopped
        /// The run's end (``Settings/runEnd``) has been received.
        case reachedEnd
    }

    /// What a Standby Status Update tells the server.
    public struct StatusUpdate: Sendable, Equatable {
        /// Received up to here.
        public var write: LSN
        /// Committed in the sink up to here: the slot may move here (and applied, too).
        public var flush: LSN
        /// Whether the server should answer with a keepalive at once.
        public var replyRequested: Bool

        public init(write: LSN, flush: LSN, replyRequested: Bool) {
            self.write = write
            self.flush = flush
            self.replyRequested = replyRequested
        }
    }

    /// The change processor: what the stream means so far.
    public private(set) var processor: ChangeProcessor
    public let settings: Settings
    /// Set once the replication stream runs: status updates exist only inside it.
    public private(set) var isStreaming = false
    /// Highest LSN seen in any frame, reported as the "write" position.
    public private(set) var receivedLSN: LSN = 0
    /// Latest keepalive WAL end (or the end of a backlog read).
    public private(set) var serverWALEnd: LSN = 0
    /// The server's clock as of its latest keepalive (for the lag metrics).
    public private(set) var serverClock: Timestamp?
    /// What the slot has been told is flushed.
    public private(set) var confirmedLSN: LSN

    /// For the idle watermark: the server's clock and WAL insert position read together.
    /// Once the stream has been received up to that position, every commit stamped before
    /// that clock has been seen (but for the documented race of a commit stamped just before
    /// its record is written), so stream time may move to it.
    private var idleProbe: (time: Timestamp, lsn: LSN)?
    /// A probe was asked for in this round of status; the next status ends the round.
    private var probedThisRound = false
    /// The furthest idle advance handed out (``advanceIfIdle(to:)``).
    private var advanceSubmitted: LSN = 0
    /// When the pending checkpoint's first change was seen (by a turn of the loop).
    private var firstPendingAt: ContinuousClock.Instant?
    /// When the next status is due; nil: at once.
    private var nextStatusAt: ContinuousClock.Instant?
    /// A keepalive asked for a reply.
    private var replyOwed = false
    /// A checkpoint committed since the last status: confirm it now.
    private var confirmOwed = false
    /// Writes handed out or reported submitted, and how many of them have finished.
    private var submittedWrites = 0
    public private(set) var finishedWrites = 0

    public init(processor: ChangeProcessor, settings: Settings) {
        self.processor = processor
        self.settings = settings
        self.confirmedLSN = processor.committedLSN
    }

    // MARK: Events

    /// The replication stream started: status updates go out from now on.
    public mutating func streamingStarted() {
        isStreaming = true
    }

    /// A backlog read through SQL reached `position`: the stream starts there.
    public mutating func backlogRead(upTo position: LSN) {
        serverWALEnd = max(serverWALEnd, position)
    }

    /// A Primary Keepalive arrived. `sendTime` is the server's clock (PostgreSQL microseconds).
    public mutating func keepaliveArrived(walEnd: LSN, sendTime: Int64, replyRequested: Bool) {
        serverWALEnd = max(serverWALEnd, walEnd)
        serverClock = Timestamp(postgresMicroseconds: sendTime)
        receivedLSN = max(receivedLSN, walEnd)
        if settings.idleWatermark, let probe = idleProbe, walEnd.covers(insertPosition: probe.lsn) {
            processor.advanceIdle(to: probe.time)
            idleProbe = nil
        }
        if replyRequested { replyOwed = true }
    }

    /// An XLogData frame starting at `walStart` arrived (its message follows).
    public mutating func dataArrived(at walStart: LSN) {
        receivedLSN = max(receivedLSN, walStart)
    }

    /// A Relation message, with the table's primary key as the catalog has it.
    public mutating func register(_ relation: Relation, primaryKey: [String]?) {
        processor.register(relation, primaryKey: primaryKey)
    }

    /// Any other message of a transaction, decoded in place from `bytes`.
    public mutating func process(
        _ message: InPlaceMessage,
        in bytes: UnsafeRawBufferPointer
    ) throws(ChangeProcessor.ProtocolError) {
        try processor.process(message, in: bytes)
    }

    /// The server's clock and WAL insert position, read together after
    /// ``Action/probeIdleWatermark``.
    public mutating func idleProbed(serverTime: Timestamp, insertPosition: LSN) {
        idleProbe = (serverTime, insertPosition)
    }

    /// A write the session made itself (chunks of streamed transactions) went to the writer.
    public mutating func writeSubmitted() {
        submittedWrites += 1
    }

    /// The writer finished a write; `checkpointAt` is the LSN of a committed checkpoint (or
    /// advance), nil for the other kinds. Only now may the slot be confirmed there.
    public mutating func writeFinished(checkpointAt lsn: LSN?) {
        finishedWrites += 1
        guard let lsn else { return }
        processor.checkpointCommitted(lsn: lsn)
        confirmOwed = true
    }

    /// The writer's queue is full and the session waits for it (back-pressure). The server
    /// must still hear from the session, or it ends a silent connection after
    /// `wal_sender_timeout`; the status confirms only what the sink has committed.
    public mutating func sinkIsBehind(now: ContinuousClock.Instant) -> StatusUpdate? {
        statusUpdate(now: now)
    }

    // MARK: The stream loop's turn

    /// What the stream loop does next; call again after carrying it out, until it says
    /// ``Action/read(timeout:)`` or ``Action/finish(_:)``.
    public mutating func nextAction(now: ContinuousClock.Instant, stopRequested: Bool) -> Action {
        if let spill = spillIfDue() { return .write(spill) }
        if replyOwed {
            if let advance = advanceIfIdle(to: serverWALEnd) { return .write(advance) }
            replyOwed = false
            if let status = statusUpdate(now: now) { return .sendStatus(status) }
        }
        if confirmOwed, let status = statusUpdate(now: now) { return .sendStatus(status) }
        let reachedEnd = settings.runEnd.map { !processor.inTransaction && isReceived(upTo: $0) } ?? false
        if stopRequested || reachedEnd {
            if let checkpoint = checkpointIfDue(now: now, force: true) { return .write(checkpoint) }
            return .finish(stopRequested ? .stopped : .reachedEnd)
        }
        if let checkpoint = checkpointIfDue(now: now, force: false) { return .write(checkpoint) }
        if isStatusDue(now: now) {
            if shouldProbeIdleWatermark {
                probedThisRound = true
                return .probeIdleWatermark
            }
            if let advance = advanceIfIdle(to: serverWALEnd) { return .write(advance) }
            probedThisRound = false
            let askReply = settings.runEnd != nil || settings.idleWatermark
            if let status = statusUpdate(now: now, requestReply: askReply) { return .sendStatus(status) }
        }
        return .read(timeout: readTimeout(now: now))
    }

    // MARK: Single decisions

    /// A checkpoint, when one is due: windows closed, the batch is full, it waited long
    /// enough, or `force`. Never inside a source transaction.
    public mutating func checkpointIfDue(now: ContinuousClock.Instant, force: Bool) -> SinkWrite? {
        guard !processor.inTransaction, processor.hasPendingCheckpoint else { return nil }
        let pendingSince = firstPendingAt ?? now
        firstPendingAt = pendingSince
        let due =
            force || processor.hasClosedWindows || processor.pendingChanges >= settings.maxBatchChanges
            || processor.pendingBytes >= settings.maxBatchBytes || now - pendingSince >= settings.checkpointInterval
        guard due, let checkpoint = processor.takeCheckpoint() else { return nil }
        firstPendingAt = nil
        submittedWrites += 1
        return .checkpoint(checkpoint)
    }

    /// The keyed part of a large open transaction, once it has grown by a batch (in changes
    /// or in key bytes), so that memory stays bounded however large one transaction is.
    public mutating func spillIfDue() -> SinkWrite? {
        guard processor.inTransaction,
            processor.unspilledTransactionChanges >= settings.maxBatchChanges
                || processor.pendingBytes >= settings.maxBatchBytes,
            let spill = processor.takeSpill()
        else { return nil }
        submittedWrites += 1
        return .spill(spill)
    }

    /// Moves the sink's checkpoint to `lsn` when everything before it is in the sink (an idle
    /// stretch: the server's WAL end, past transactions that carried nothing to count), so that
    /// the slot can be confirmed there. The slot is never confirmed past the sink's checkpoint
    /// (the sink-gap check relies on it); only when the position moved and no write is out.
    public mutating func advanceIfIdle(to lsn: LSN) -> SinkWrite? {
        guard processor.isFullyCommitted, lsn > processor.committedLSN, lsn > advanceSubmitted,
            submittedWrites == finishedWrites
        else { return nil }
        advanceSubmitted = lsn
        submittedWrites += 1
        return .advance(lsn: lsn)
    }

    /// A status update now (nil before streaming): never past the sink's checkpoint.
    public mutating func statusUpdate(now: ContinuousClock.Instant, requestReply: Bool = false) -> StatusUpdate? {
        guard isStreaming else { return nil }
        confirmedLSN = max(confirmedLSN, processor.committedLSN)
        confirmOwed = false
        nextStatusAt = now + settings.statusEvery
        return StatusUpdate(write: max(receivedLSN, confirmedLSN), flush: confirmedLSN, replyRequested: requestReply)
    }

    /// Whether a status update is due (also while replaying a long streamed transaction).
    public func isStatusDue(now: ContinuousClock.Instant) -> Bool {
        nextStatusAt.map { now >= $0 } ?? true
    }

    // MARK: What the loop reports

    /// Whether everything received has been committed and the server has sent nothing newer.
    public var isCaughtUpWithServer: Bool {
        processor.isFullyCommitted && receivedLSN >= serverWALEnd
    }

    /// Whether writes handed to the writer have not all finished.
    public var hasWritesInFlight: Bool { submittedWrites > finishedWrites }

    /// Whether everything up to `position` has been received.
    private func isReceived(upTo position: LSN) -> Bool {
        max(processor.processedLSN, serverWALEnd).covers(insertPosition: position)
    }

    private var shouldProbeIdleWatermark: Bool {
        settings.idleWatermark && !probedThisRound && idleProbe == nil && !processor.inTransaction
            && !processor.hasPendingCheckpoint
    }

    /// How long the next read may wait: until the next status or the pending checkpoint is
    /// due, briefly while a write is in flight (its commit is confirmed as soon as it lands,
    /// even on an idle stream), never over half a second.
    private func readTimeout(now: ContinuousClock.Instant) -> Duration {
        var wait = max(.milliseconds(1), (nextStatusAt ?? now) - now)
        if let firstPendingAt, !processor.inTransaction {
            wait = min(wait, max(.zero, firstPendingAt + settings.checkpointInterval - now))
        }
        if settings.runEnd != nil || settings.idleWatermark { wait = min(wait, .milliseconds(200)) }
        if hasWritesInFlight { wait = min(wait, .milliseconds(2)) }
        return min(wait, .milliseconds(500))
    }
}
