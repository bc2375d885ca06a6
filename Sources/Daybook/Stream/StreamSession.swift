import DaybookCore
import Foundation
import Logging
import PgOutput
import PostgresReplication
import WAL
import Windowing

/// The read–process–checkpoint–confirm loop of one connected session.
///
/// Checkpoints go to a ``CheckpointWriter`` that commits them on its own thread while this
/// loop keeps reading; the slot is confirmed only up to what the writer reports committed.
struct StreamSession {
    var processor: ChangeProcessor
    let writer: CheckpointWriter
    let stream: ReplicationStream
    let catalog: PostgresConnection
    let context: RunContext
    /// With `--until-caught-up`: the server's WAL position when the run started.
    let caughtUpTarget: LSN?
    var logger: Logger { context.logger }
    var configuration: RunConfiguration { context.configuration }
    var metrics: PipelineMetrics { context.metrics }
    var health: ServiceHealth { context.health }

    /// Set once START_REPLICATION succeeded: status updates exist only inside COPY.
    var isStreaming = false
    /// Highest LSN seen in any frame, reported as the "write" position.
    private var receivedLSN: LSN = 0
    /// Latest keepalive WAL end.
    var serverWALEnd: LSN = 0
    /// The server's clock as of its latest message (for the lag metrics).
    private var serverClock: Timestamp?
    /// For the idle watermark: the server's clock and WAL insert position read together.
    /// Once the stream has been received up to that position, every commit stamped before
    /// that clock has been seen (but for the documented race of a commit stamped just before
    /// its record is written), so stream time may move to it.
    private var idleProbe: (time: Timestamp, lsn: LSN)?
    /// What the slot has been told is flushed.
    private var confirmedLSN: LSN = 0
    /// The furthest idle advance handed to the writer (``advanceCheckpointIfIdle(to:)``).
    private var advanceSubmitted: LSN = 0
    var firstPendingAt: ContinuousClock.Instant?
    var nextStatusAt = ContinuousClock.now
    /// Called when a committed checkpoint closed windows (they now wait to be finished).
    var onWindowsClosing: (() -> Void)?
    /// Writes submitted to the writer, and how many of them it has reported finished.
    var submittedWrites = 0
    private var collectedWrites = 0
    /// Chunks of transactions the server streams before their commit.
    var streams = StreamedTransactions()
    /// Writes messages too large to hold and reads held chunks back at a streamed commit;
    /// opened when first needed.
    var chunkStore: StreamChunkStore?

    init(
        processor: ChangeProcessor,
        writer: CheckpointWriter,
        stream: ReplicationStream,
        catalog: PostgresConnection,
        context: RunContext,
        caughtUpTarget: LSN?
    ) {
        self.processor = processor
        self.writer = writer
        self.stream = stream
        self.catalog = catalog
        self.context = context
        self.caughtUpTarget = caughtUpTarget
        self.confirmedLSN = processor.committedLSN
    }

    mutating func pump(until stop: StopSignal) throws {
        while true {
            if stop.isStopped {
                try checkpointIfDue(force: true)
                try finishWrites()
                return
            }
            if let target = caughtUpTarget, !processor.inTransaction, isCaughtUp(to: target) {
                try checkpointIfDue(force: true)
                try finishWrites()
                logger.info("caught up", metadata: [LogKey.lsn: "\(processor.committedLSN)"])
                return
            }
            // One clock reading per turn: the loop turns once per message while data flows.
            let now = ContinuousClock.now
            try checkpointIfDue(force: false, now: now)
            try collectCommitted()
            if now >= nextStatusAt {
                try probeIdleWatermark()
                try advanceCheckpointIfIdle(to: serverWALEnd)
                try sendStatus(requestReply: caughtUpTarget != nil || configuration.idleWatermark)
            }
            var wait = max(.milliseconds(1), nextStatusAt - now)
            if let firstPendingAt, !processor.inTransaction {
                wait = min(wait, max(.zero, firstPendingAt + configuration.checkpointInterval - now))
            }
            if caughtUpTarget != nil || configuration.idleWatermark { wait = min(wait, .milliseconds(200)) }
            // A commit in flight is confirmed as soon as it lands, even on an idle stream.
            if submittedWrites > collectedWrites { wait = min(wait, .milliseconds(2)) }
            do {
                _ = try stream.read(timeout: min(wait, .milliseconds(500))) { header, payload in
                    try handle(header, payload)
                }
            } catch let error as PostgresError {
                throw DaybookError.from(error, role: .source)
            }
            try spillIfDue()
        }
    }

    private mutating func handle(_ frame: ReplicationFrameHeader, _ payload: UnsafeRawBufferPointer) throws {
        switch frame {
        case .keepalive(let walEnd, let sendTime, let replyRequested):
            serverWALEnd = max(serverWALEnd, walEnd)
            serverClock = Timestamp(microsecondsSinceEpoch: sendTime + postgresEpochOffsetMicroseconds)
            receivedLSN = max(receivedLSN, walEnd)
            if configuration.idleWatermark, let probe = idleProbe, walEnd.covers(insertPosition: probe.lsn) {
                processor.advanceIdle(to: probe.time)
                idleProbe = nil
            }
            if replyRequested {
                try advanceCheckpointIfIdle(to: serverWALEnd)
                try sendStatus()
            }
        case .xLogData(let walStart, _, _):
            receivedLSN = max(receivedLSN, walStart)
            try receive(payload, at: walStart)
        }
    }

    /// Takes one pgoutput message, from the stream or from a backlog read through SQL.
    mutating func receive(_ payload: UnsafeRawBufferPointer, at lsn: LSN) throws {
        if streams.isInChunk {
            try hold(payload, near: lsn)
            return
        }
        let message: InPlaceMessage
        do { message = try PgOutputDecoder.decodeInPlace(payload) } catch {
            throw Self.undecodable(error, near: lsn)
        }
        switch message {
        case .streamStart(let start): try startChunk(start)
        case .streamCommit(let commit): try replayStreamed(commit)
        case .streamAbort(let abort): try abortStreamed(abort)
        default: try apply(message, in: payload)
        }
    }

    static func undecodable(_ error: PgOutputDecodingError, near lsn: LSN) -> DaybookError {
        DaybookError(
            .malformedStream,
            "cannot decode the replication stream near LSN \(lsn): \(error); nothing after the "
                + "last checkpoint was confirmed — report this with the server version"
        )
    }

    /// Folds one message of an ordinary transaction (or of a streamed one, replayed at its
    /// commit) into the processor; `bytes` is the message it was decoded from.
    mutating func apply(_ message: InPlaceMessage, in bytes: UnsafeRawBufferPointer) throws {
        if case .relation(let relation) = message {
            let primaryKey: [String]?
            do { primaryKey = try SourcePreflight.primaryKey(of: relation.oid, on: catalog) } catch {
                throw DaybookError.from(error, role: .source)
            }
            let hasKey = relation.replicaIdentity != .nothing && relation.columns.contains(where: \.isKey)
            if !hasKey && relation.qualifiedName != configuration.processor.heartbeatTable {
                logger.warning(
                    "table has no primary key; counting it per table only",
                    metadata: ["daybook.table": "\(relation.qualifiedName)"]
                )
            }
            processor.register(relation, primaryKey: primaryKey)
            return
        }
        do { try processor.process(message, in: bytes) } catch {
            throw Self.unexpectedOrder(error)
        }
        if processor.hasPendingCheckpoint, firstPendingAt == nil { firstPendingAt = .now }
    }

    static func unexpectedOrder(_ error: ChangeProcessor.ProtocolError) -> DaybookError {
        DaybookError(.malformedStream, "unexpected message order in the replication stream: \(error)")
    }

    /// Whether everything up to `target` has been received.
    private func isCaughtUp(to target: LSN) -> Bool {
        max(processor.processedLSN, serverWALEnd).covers(insertPosition: target)
    }

    /// Reads the server's clock and WAL insert position together, for the idle watermark.
    private mutating func probeIdleWatermark() throws {
        guard configuration.idleWatermark, idleProbe == nil, !processor.inTransaction,
            !processor.hasPendingCheckpoint
        else { return }
        let row = try DaybookError.mapping(role: .source) {
            try catalog.query(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, pg_current_wal_insert_lsn()::text"
            ).rows.first
        }
        guard let micros = row?[0].flatMap({ Int64($0) }), let lsn = row?[1].flatMap(LSN.init) else { return }
        idleProbe = (Timestamp(microsecondsSinceEpoch: micros), lsn)
    }

    /// Writes the keyed part of a large open transaction ahead of its commit once it has
    /// grown by a batch (in changes or in key bytes), so that memory stays bounded however
    /// large one transaction is.
    mutating func spillIfDue() throws {
        guard processor.inTransaction,
            processor.unspilledTransactionChanges >= configuration.maxBatchChanges
                || processor.pendingBytes >= configuration.maxBatchBytes,
            let spill = processor.takeSpill()
        else { return }
        try writer.submit(.spill(spill)) { try sendStatus() }
        submittedWrites += 1
        logger.debug(
            "wrote part of a large transaction ahead of its commit",
            metadata: [
                LogKey.lsn: "\(spill.keyTag.lsn)", LogKey.changes: "\(spill.keys.operationCount)",
                "daybook.events": "\(spill.events.count)",
            ]
        )
    }

    /// Writes a checkpoint when one is due: windows closed, the batch is full, or it waited
    /// long enough. Never inside a source transaction.
    mutating func checkpointIfDue(force: Bool, now: ContinuousClock.Instant = .now) throws {
        guard !processor.inTransaction, processor.hasPendingCheckpoint else { return }
        let due =
            force || processor.hasClosedWindows || processor.pendingChanges >= configuration.maxBatchChanges
            || processor.pendingBytes >= configuration.maxBatchBytes
            || (firstPendingAt.map { now - $0 >= configuration.checkpointInterval } ?? false)
        guard due, let checkpoint = processor.takeCheckpoint() else { return }
        firstPendingAt = nil
        try writer.submit(.checkpoint(checkpoint)) { try sendStatus() }
        submittedWrites += 1
    }

    /// Waits for every submitted write, then confirms the slot up to it.
    mutating func finishWrites() throws {
        try writer.drain { try sendStatus() }
        try collectCommitted()
        try sendStatus()
    }

    /// Takes what the writer committed: advances the processor's committed LSN, logs closing
    /// windows and hands them to the finisher, and confirms the slot.
    mutating func collectCommitted() throws {
        guard writer.finishedWrites != collectedWrites else { return }
        let committed = try writer.takeCompleted()
        collectedWrites += committed.count
        var confirmed = false
        var closed = false
        for case let done? in committed.map(\.checkpoint) {
            confirmed = true
            processor.checkpointCommitted(lsn: done.lsn)
            metrics.windowsClosed(done.closed)
            for closure in done.closed {
                closed = true
                logger.info(
                    "window closing",
                    metadata: [
                        LogKey.windowStart: "\(closure.window.start)", LogKey.windowEnd: "\(closure.window.end)",
                        LogKey.reason: "\(closure.reason.rawValue)",
                    ]
                )
            }
            logger.debug(
                "checkpoint committed",
                metadata: [
                    LogKey.lsn: "\(done.lsn)", LogKey.changes: "\(done.changes)",
                    LogKey.transactions: "\(done.transactions)",
                ]
            )
        }
        if closed { onWindowsClosing?() }
        if confirmed { try sendStatus() }
    }

    /// Moves the sink's checkpoint to `lsn` when everything before it is in the sink (an idle
    /// stretch: the server's WAL end, past transactions that carried nothing to count), so that
    /// the slot can be confirmed there. The slot is never confirmed past the sink's checkpoint
    /// (``SinkGap`` relies on it); the write is one row, and only when the position moved.
    mutating func advanceCheckpointIfIdle(to lsn: LSN) throws {
        guard processor.isFullyCommitted, lsn > processor.committedLSN, lsn > advanceSubmitted,
            submittedWrites == collectedWrites
        else { return }
        advanceSubmitted = lsn
        try writer.submit(.advance(lsn: lsn)) { try sendStatus() }
        submittedWrites += 1
    }

    /// Tells the server how far the sink has committed: never past the sink's checkpoint (an
    /// idle stretch is written there first, ``advanceCheckpointIfIdle(to:)``).
    mutating func sendStatus(requestReply: Bool = false) throws {
        guard isStreaming else { return }
        confirmedLSN = max(confirmedLSN, processor.committedLSN)
        let clientTime = Timestamp(Date()).microsecondsSinceEpoch - postgresEpochOffsetMicroseconds
        let status = StandbyStatusUpdate(
            write: max(receivedLSN, confirmedLSN),
            flush: confirmedLSN,
            apply: confirmedLSN,
            clientTime: clientTime,
            replyRequested: requestReply
        )
        do { try stream.send(status) } catch { throw DaybookError.from(error, role: .source) }
        health.progressed()
        metrics.position(
            serverWALEnd: serverWALEnd,
            confirmed: confirmedLSN,
            serverClock: serverClock,
            streamTime: processor.engine.streamTime,
            caughtUp: processor.isFullyCommitted && receivedLSN >= serverWALEnd,
            openWindows: processor.engine.openWindows.count
        )
        let interval: Duration =
            caughtUpTarget != nil
            ? .milliseconds(200) : configuration.idleWatermark ? .milliseconds(500) : configuration.statusInterval
        nextStatusAt = .now + interval
    }
}
