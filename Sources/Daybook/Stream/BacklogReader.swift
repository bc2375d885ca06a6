import DaybookCore
import Foundation
import Logging
import PostgresReplication
import WAL

/// Backlog mode: reading what the slot is behind through SQL decoding, in WAL ranges, before
/// the replication stream takes over (see ``BacklogPlan`` for why and when).
///
/// Exactly once stays as it is in streaming: the messages go through the session's
/// ``StreamSession/receive(_:at:)`` and its checkpoints; the slot is advanced only to what the sink has committed (or, with
/// nothing pending, to the end of a range whose every transaction is in the sink), and the
/// stream later starts where the slot then stands. A crash anywhere leaves a slot at or before
/// the sink's checkpoint, and commits at or below the checkpoint are skipped, as on any restart.
struct BacklogReader {
    /// How a backlog read ended.
    enum Outcome: Equatable {
        /// The run's end (`--until-caught-up`, `--until-lsn`) is in the sink.
        case finished
        /// Stream from here: little left, backlog mode not possible, or never needed.
        case stream
        /// Stopped by a signal between transactions, with what was read in the sink.
        case stopped
    }

    private var plan: BacklogPlan
    /// The run's end (`--until-caught-up`, `--until-lsn`), if it has one.
    private let end: LSN?
    /// The session's catalog connection: slot positions, privileges, advancing the slot.
    private let catalog: PostgresConnection
    private let context: RunContext
    private var configuration: RunConfiguration { context.configuration }
    private var logger: Logger { context.logger }
    private var metrics: PipelineMetrics { context.metrics }

    init(plan: BacklogPlan, end: LSN?, catalog: PostgresConnection, context: RunContext) {
        self.plan = plan
        self.end = end
        self.catalog = catalog
        self.context = context
    }

    /// Reads the backlog through SQL into `session` when the run starts far enough behind
    /// (always for a run with an end), then says whether the run is over or the stream takes
    /// the rest.
    ///
    /// Backlog mode never stops a run by itself: when the role may not call the functions, the
    /// server lacks them, or a read exceeds its temporary-space limit, it logs one line saying
    /// why and the stream reads the rest.
    mutating func read(into session: inout StreamSession, stop: StopSignal) throws -> Outcome {
        guard plan.isEnabled else { return .stream }
        let slot = configuration.slot
        let (confirmed, decodable) = try DaybookError.mapping(role: .source) {
            let row = try catalog.query(
                "SELECT confirmed_flush_lsn::text, (\(WALPositionSQL.decodable))::text FROM pg_replication_slots WHERE slot_name = $1",
                [slot]
            ).rows.first
            return (row?[0].flatMap(LSN.init) ?? 0, row?[1].flatMap(LSN.init) ?? 0)
        }
        var position = max(confirmed, session.processor.committedLSN)
        guard plan.startsInBacklogMode(position: position, decodable: decodable, end: end) else { return .stream }
        let reader: SQLDecodingReader
        do {
            guard let chunk = try Self.usableChunk(plan, on: catalog) else {
                return fellBack("the server's temp_file_limit leaves no room for a read of the backlog (at least 2 MB)")
            }
            plan.chunkBytes = chunk
            let connection = try PostgresConnection.open(
                configuration.source,
                role: .source,
                applicationName: BacklogPlan.applicationName(slot: slot)
            )
            reader = try SQLDecodingReader(connection: connection, slot: slot, publications: configuration.publications)
            // The sink may hold more than the slot was told (a stop between the two): move the
            // slot there first, so the first read does not decode what is already counted.
            if session.processor.committedLSN > confirmed {
                try catalog.advanceSlot(slot, to: session.processor.committedLSN)
            }
        } catch let error as PostgresError {
            if let reason = BacklogPlan.fallbackReason(sqlState: error.sqlState, message: error.message) {
                return fellBack(reason)
            }
            throw DaybookError.from(error, role: .source)
        }
        logger.info(
            "reading the backlog through SQL decoding",
            metadata: [
                LogKey.lsn: "\(position)",
                "daybook.behind_bytes": "\(decodable.bytes(since: position))",
                "daybook.chunk_bytes": "\(plan.chunkBytes)",
            ]
        )
        metrics.backlogModeChanged(true)
        context.health.setPhase(.readingBacklog)
        defer { metrics.backlogModeChanged(false) }
        let started = ContinuousClock.now
        var messages = 0
        var reads = 0
        // Turns spent waiting for the run's end to be flushed; after two seconds the stream waits instead.
        var waits = 0
        var outcome = Outcome.stream
        reading: while true {
            if stop.isStopped {
                outcome = .stopped
                break
            }
            let now = try DaybookError.mapping(role: .source) {
                try catalog.query("SELECT (\(WALPositionSQL.decodable))::text").scalar.flatMap(LSN.init) ?? 0
            }
            switch plan.next(position: position, decodable: now, end: end) {
            case .finished:
                outcome = .finished
                break reading
            case .stream:
                break reading
            case .wait:
                guard waits < 100 else { break reading }
                waits += 1
                Thread.sleep(forTimeInterval: 0.02)
            case .read(let upTo):
                reads += 1
                switch try readRange(reader, into: &session, from: position, upTo: upTo, stop: stop) {
                case .read(let count, let newPosition):
                    messages += count
                    position = newPosition
                    metrics.position(
                        serverWALEnd: now,
                        confirmed: position,
                        serverClock: nil,
                        streamTime: session.processor.engine.streamTime,
                        caughtUp: false,
                        openWindows: session.processor.engine.openWindows.count,
                        oldestOpenWindowClosesAt: session.processor.engine.oldestOpenWindowClosesAt
                    )
                case .stopped(let count):
                    messages += count
                    outcome = .stopped
                    break reading
                case .fellBack(let reason):
                    return fellBack(reason)
                }
            }
        }
        session.backlogRead(upTo: position)
        let seconds = Double((ContinuousClock.now - started).nanoseconds) / 1e9
        logger.info(
            outcome == .stream ? "backlog read; the replication stream takes over" : "backlog read",
            metadata: [
                LogKey.lsn: "\(position)", "daybook.messages": "\(messages)", "daybook.reads": "\(reads)",
                "daybook.seconds": "\(String(format: "%.2f", seconds))",
            ]
        )
        return outcome
    }

    private func fellBack(_ reason: String) -> Outcome {
        logger.notice("backlog mode unavailable; streaming the backlog instead", metadata: [LogKey.why: "\(reason)"])
        return .stream
    }

    /// The read size this server allows, after checking that the role may call both
    /// functions (a missing function or right throws, which the caller turns into a reason).
    private static func usableChunk(
        _ plan: BacklogPlan,
        on catalog: PostgresConnection
    ) throws(PostgresError) -> UInt64? {
        let row = try catalog.query(
            """
            SELECT has_function_privilege('pg_catalog.pg_logical_slot_peek_binary_changes(name, pg_lsn, integer, text[])', 'EXECUTE')
                   AND has_function_privilege('pg_catalog.pg_replication_slot_advance(name, pg_lsn)', 'EXECUTE'),
                   current_user, (SELECT setting FROM pg_settings WHERE name = 'temp_file_limit')
            """
        ).rows.first
        guard row?[0] == "t" else {
            throw PostgresError(
                .query,
                message: "permission denied for role \(row?[1] ?? "?") to execute the SQL decoding functions",
                sqlState: "42501"
            )
        }
        return plan.chunkBytes(underTempFileLimit: row?[2].flatMap { Int64($0) } ?? -1)
    }

    private enum RangeOutcome {
        case read(messages: Int, position: LSN)
        case stopped(messages: Int)
        case fellBack(String)
    }

    /// Ends a read early for a stop signal.
    private struct StoppedReading: Error {}

    /// Reads one WAL range, commits it to the sink and advances the slot to what the sink holds.
    private func readRange(
        _ reader: SQLDecodingReader,
        into session: inout StreamSession,
        from position: LSN,
        upTo end: LSN,
        stop: StopSignal
    ) throws -> RangeOutcome {
        logger.debug(
            "reading a range of the backlog",
            metadata: ["daybook.from": "\(position)", "daybook.to": "\(end)"]
        )
        var messages = 0
        var stopped = false
        let health = context.health
        do {
            // While the server decodes a range (minutes, for one with a huge transaction), the
            // service shows it is alive and a stop is not kept waiting; stopping then is like
            // a crash at that point for whatever transaction was half read.
            let idle = {
                health.progressed()
                if stop.isStopped { throw StoppedReading() }
            }
            try reader.read(upTo: end, idle: idle) { lsn, payload in
                messages += 1
                try session.receive(payload, at: lsn)
                if session.processor.inTransaction {
                    try session.spillIfDue()
                    return
                }
                if stop.isStopped { throw StoppedReading() }
                try session.checkpointIfDue(force: false)
                try session.collectCommitted()
                health.progressed()
            }
        } catch is StoppedReading {
            stopped = true
        } catch let error as PostgresError {
            // The limits that end backlog mode strike while the server decodes, before any row.
            if messages == 0, let reason = BacklogPlan.fallbackReason(sqlState: error.sqlState, message: error.message)
            {
                return .fellBack(reason)
            }
            throw DaybookError.from(error, role: .source)
        }
        try session.checkpointIfDue(force: true)
        try session.finishWrites()
        // Every transaction committing up to `end` has been read and is in the sink (none is
        // open: a read returns whole transactions), so the slot may move to `end` itself, once
        // the sink's checkpoint is there (the slot never passes it: SinkGap).
        if !stopped {
            try session.advanceCheckpointIfIdle(to: end)
            try session.finishWrites()
        }
        let target = session.processor.committedLSN
        if target > position {
            logger.debug("advancing the slot", metadata: [LogKey.lsn: "\(target)"])
            _ = try DaybookError.mapping(role: .source) { try catalog.advanceSlot(configuration.slot, to: target) }
        }
        return stopped ? .stopped(messages: messages) : .read(messages: messages, position: max(position, target))
    }
}
