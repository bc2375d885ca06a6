import DaybookCore
import Foundation
import Logging
import PgOutput
import PostgresReplication
import WAL
import Windowing

/// The read–process–checkpoint–confirm loop of one connected session: the I/O that carries
/// out what its ``StreamStateMachine`` decides.
///
/// Checkpoints go to a ``CheckpointWriter`` that commits them on its own thread while this
/// loop keeps reading; the slot is confirmed only up to what the writer reports committed.
struct StreamSession {
    /// Every decision: when to write, what to confirm, when to send a status, when to stop.
    private var machine: StreamStateMachine
    let writer: CheckpointWriter
    private let stream: ReplicationStream
    private let catalog: PostgresConnection
    /// Kinds of refused actor messages already warned about.
    private var warnedAttributionProblems: Set<AttributionProblem> = []
    let context: RunContext
    /// The published tables' primary keys, read at setup.
    private var primaryKeys: PrimaryKeyCatalog
    var logger: Logger { context.logger }
    var configuration: RunConfiguration { context.configuration }
    var metrics: PipelineMetrics { context.metrics }
    var health: ServiceHealth { context.health }
    var processor: ChangeProcessor { machine.processor }

    /// Called when a committed checkpoint closed windows (they now wait to be finished).
    var onWindowsClosing: (() -> Void)?
    /// Chunks of transactions the server streams before their commit.
    var streams = StreamedTransactions()
    /// Writes messages too large to hold and reads held chunks back at a streamed commit;
    /// opened when first needed.
    var chunkStore: StreamChunkStore?
    /// Seals what this session holds of streamed transactions in the sink (``ChunkSeal``).
    let chunkSeal = ChunkSeal()

    init(
        processor: ChangeProcessor,
        writer: CheckpointWriter,
        stream: ReplicationStream,
        catalog: PostgresConnection,
        primaryKeys: PrimaryKeyCatalog,
        context: RunContext,
        runEnd: LSN?
    ) {
        let configuration = context.configuration
        self.machine = StreamStateMachine(
            processor: processor,
            settings: StreamStateMachine.Settings(
                checkpointInterval: configuration.checkpointInterval,
                statusInterval: configuration.statusInterval,
                maxBatchChanges: configuration.maxBatchChanges,
                maxBatchBytes: configuration.maxBatchBytes,
                idleWatermark: configuration.idleWatermark,
                runEnd: runEnd
            )
        )
        self.writer = writer
        self.stream = stream
        self.catalog = catalog
        self.primaryKeys = primaryKeys
        self.context = context
    }

    /// Reads the stream and carries out the machine's actions until it says the session is
    /// over (a stop, or the run's end), with everything read committed and confirmed.
    mutating func pump(until stop: StopSignal) throws {
        machine.streamingStarted()
        while true {
            // One clock reading per turn: the loop turns once per message while data flows.
            let now = ContinuousClock.now
            try collectCommitted()
            switch machine.nextAction(now: now, stopRequested: stop.isStopped) {
            case .write(let write):
                try submit(write)
            case .sendStatus(let status):
                try send(status)
            case .probeIdleWatermark:
                try probeIdleWatermark()
            case .finish(let finish):
                try finishWrites()
                if finish == .reachedEnd {
                    logger.info("caught up", metadata: [LogKey.lsn: "\(processor.committedLSN)"])
                }
                return
            case .read(let timeout):
                do {
                    _ = try stream.read(timeout: timeout) { header, payload in
                        try handle(header, payload)
                    }
                } catch let error as PostgresError {
                    throw DaybookError.from(error, role: .source)
                }
            }
        }
    }

    private mutating func handle(_ frame: ReplicationFrameHeader, _ payload: UnsafeRawBufferPointer) throws {
        switch frame {
        case .keepalive(let walEnd, let sendTime, let replyRequested):
            machine.keepaliveArrived(walEnd: walEnd, sendTime: sendTime, replyRequested: replyRequested)
        case .xLogData(let walStart, _, _):
            machine.dataArrived(at: walStart)
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
            let primaryKey = try primaryKeys.primaryKey(
                of: relation,
                changedFrom: processor.relation(relation.oid),
                on: catalog
            )
            let hasKey = relation.replicaIdentity != .nothing && relation.columns.contains(where: \.isKey)
            if !hasKey && relation.qualifiedName != configuration.processor.heartbeatTable {
                logger.warning(
                    "table has no primary key; counting it per table only",
                    metadata: ["daybook.table": "\(relation.qualifiedName)"]
                )
            }
            machine.register(relation, primaryKey: primaryKey)
            return
        }
        do { try machine.process(message, in: bytes) } catch {
            throw Self.unexpectedOrder(error)
        }
    }

    static func unexpectedOrder(_ error: ChangeProcessor.ProtocolError) -> DaybookError {
        if error.isConfiguration { return DaybookError(.configuration, error.description) }
        return DaybookError(.malformedStream, "unexpected message order in the replication stream: \(error)")
    }

    /// Windows that ended longer ago than this (seconds, by the server's clock) get no row
    /// estimates at their close.
    static let rowEstimateAge: Int64 = 6 * 3600

    /// Warns about each kind of refused actor message the first time it is seen.
    private mutating func warnOnce(about problems: some Collection<AttributionProblem>) {
        for problem in problems where !warnedAttributionProblems.contains(problem) {
            warnedAttributionProblems.insert(problem)
            logger.warning(
                "changes counted as unattributed: \(problem.explanation) (warned once per kind; daybook_attribution_problems_total counts them)",
                metadata: ["daybook.kind": "\(problem.rawValue)"]
            )
        }
    }

    /// The source's row estimate of each published table, for the windows a checkpoint
    /// closes (the digest's mass deletes). An estimate that cannot be read is left out, with a
    /// warning: it never stops the stream.
    private func rowEstimates() -> (estimates: [String: Int64], serverClock: Timestamp)? {
        do {
            let rows = try catalog.query(
                """
                SELECT p.schemaname || '.' || p.tablename, c.reltuples::bigint,
                       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                  FROM pg_publication_tables p
                  JOIN pg_namespace n ON n.nspname = p.schemaname
                  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
                 WHERE p.pubname IN (SELECT jsonb_array_elements_text($1::jsonb)) AND c.reltuples >= 0
                """,
                [DaybookJSON.text(configuration.publications)]
            ).rows
            var estimates: [String: Int64] = [:]
            for row in rows {
                if let name = row[0], let count = row[1].flatMap({ Int64($0) }) { estimates[name] = count }
            }
            guard let micros = rows.first?[2].flatMap({ Int64($0) }) else { return nil }
            return (estimates, Timestamp(microsecondsSinceEpoch: micros))
        } catch {
            logger.warning(
                "could not read the source's row estimates; the closing windows' mass deletes go unmeasured",
                metadata: [LogKey.error: "\(error)"]
            )
            return nil
        }
    }

    /// Reads the server's clock and WAL insert position together, for the idle watermark.
    private mutating func probeIdleWatermark() throws {
        let row = try DaybookError.mapping(role: .source) {
            try catalog.query(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, pg_current_wal_insert_lsn()::text"
            ).rows.first
        }
        guard let micros = row?[0].flatMap({ Int64($0) }), let lsn = row?[1].flatMap(LSN.init) else { return }
        machine.idleProbed(serverTime: Timestamp(microsecondsSinceEpoch: micros), insertPosition: lsn)
    }

    /// Writes the keyed part of a large open transaction ahead of its commit when the machine
    /// says it is due (outside the stream loop's turns: backlog reads, streamed replays).
    mutating func spillIfDue() throws {
        guard let spill = machine.spillIfDue() else { return }
        try submit(spill)
    }

    /// Writes a checkpoint when the machine says one is due (outside the stream loop's turns).
    mutating func checkpointIfDue(force: Bool) throws {
        guard let checkpoint = machine.checkpointIfDue(now: .now, force: force) else { return }
        try submit(checkpoint)
    }

    /// Moves the sink's checkpoint over an idle stretch up to `lsn` when the machine allows it.
    mutating func advanceCheckpointIfIdle(to lsn: LSN) throws {
        guard let advance = machine.advanceIfIdle(to: lsn) else { return }
        try submit(advance)
    }

    /// Hands a write to the writer; while its queue is full, the server keeps hearing from us.
    private mutating func submit(_ write: SinkWrite) throws {
        var write = write
        if case .checkpoint(var checkpoint) = write {
            warnOnce(about: checkpoint.attributionProblems.keys)
            if !checkpoint.closed.isEmpty, let (estimates, serverClock) = rowEstimates() {
                // The estimate describes the table now, by the server's clock: only for windows
                // that ended lately (a catch-up of an old backlog would give old days today's size).
                let recent = serverClock + .seconds(-Self.rowEstimateAge)
                checkpoint.sourceRowsWindows = checkpoint.closed.map(\.window).filter { $0.end >= recent }
                checkpoint.sourceRows = checkpoint.sourceRowsWindows.isEmpty ? [:] : estimates
                write = .checkpoint(checkpoint)
            }
        }
        if case .spill(let spill) = write {
            logger.debug(
                "wrote part of a large transaction ahead of its commit",
                metadata: [
                    LogKey.lsn: "\(spill.keyTag.lsn)", LogKey.changes: "\(spill.keys.operationCount)",
                    "daybook.events": "\(spill.events.count)",
                ]
            )
        }
        try writer.submit(write) { try sendStatusWhileSinkIsBehind() }
    }

    /// A write the session itself decided (chunks of streamed transactions).
    mutating func submitStreamed(_ write: SinkWrite) throws {
        try submit(write)
        machine.writeSubmitted()
    }

    mutating func sendStatusWhileSinkIsBehind() throws {
        if let status = machine.sinkIsBehind(now: .now) { try send(status) }
    }

    /// Waits for every submitted write, then confirms the slot up to it.
    mutating func finishWrites() throws {
        try writer.drain { try sendStatusWhileSinkIsBehind() }
        try collectCommitted()
        if let status = machine.statusUpdate(now: .now) { try send(status) }
    }

    /// A backlog read through SQL reached `position`: the stream starts there.
    mutating func backlogRead(upTo position: LSN) {
        machine.backlogRead(upTo: position)
    }

    /// Sends a status when one is due (during a long streamed replay).
    mutating func sendStatusIfDue() throws {
        let now = ContinuousClock.now
        guard machine.isStatusDue(now: now), let status = machine.statusUpdate(now: now) else { return }
        try send(status)
    }

    /// Takes what the writer committed into the machine (which then confirms it), logs the
    /// closing windows and hands them to the finisher.
    mutating func collectCommitted() throws {
        guard writer.finishedWrites != machine.finishedWrites else { return }
        var closed = false
        for committed in try writer.takeCompleted() {
            machine.writeFinished(checkpointAt: committed.checkpoint?.lsn)
            guard let done = committed.checkpoint else { continue }
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
    }

    /// Sends a status update and records it in the metrics and the health.
    private func send(_ status: StreamStateMachine.StatusUpdate) throws {
        let clientTime = Timestamp(Date()).microsecondsSinceEpoch - postgresEpochOffsetMicroseconds
        let update = StandbyStatusUpdate(
            write: status.write,
            flush: status.flush,
            apply: status.flush,
            clientTime: clientTime,
            replyRequested: status.replyRequested
        )
        do { try stream.send(update) } catch { throw DaybookError.from(error, role: .source) }
        health.progressed()
        metrics.position(
            serverWALEnd: machine.serverWALEnd,
            confirmed: machine.confirmedLSN,
            serverClock: machine.serverClock,
            streamTime: processor.engine.streamTime,
            caughtUp: machine.isCaughtUpWithServer,
            openWindows: processor.engine.openWindows.count,
            oldestOpenWindowClosesAt: processor.engine.oldestOpenWindowClosesAt
        )
    }
}
