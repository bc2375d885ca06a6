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
    /// Where the slot's confirmed position stands, as far as this reader moved it: it may only
    /// move forward (the server refuses an advance to before it).
    private var slotConfirmed: LSN = 0
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
    /// The server decodes the next range while Daybook processes the current one, on a
    /// temporary copy of the slot (``AheadDecoder``). When the server cannot give the
    /// connection or the slot that takes, ranges are read in turn from the slot itself, with
    /// one line saying why. Backlog mode never stops a run by itself: when the role may not
    /// call the functions, the server lacks them, or a read exceeds its temporary-space limit,
    /// it logs one line saying why and the stream reads the rest.
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
        slotConfirmed = confirmed
        var position = max(confirmed, session.processor.committedLSN)
        guard plan.startsInBacklogMode(position: position, decodable: decodable, end: end) else { return .stream }
        var source: RangeSource
        do {
            guard let chunk = try Self.usableChunk(plan, on: catalog) else {
                return fellBack("the server's temp_file_limit leaves no room for a read of the backlog (at least 2 MB)")
            }
            plan.chunkBytes = chunk
            plan.firstAheadBytes = min(plan.firstAheadBytes, chunk)
            // The sink may hold more than the slot was told (a stop between the two): move the
            // slot there first, so that the first read (and the copy) does not decode what is
            // already counted.
            if session.processor.committedLSN > confirmed {
                slotConfirmed = try catalog.advanceSlot(slot, to: session.processor.committedLSN)
            }
            source = try openSource()
        } catch {
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
                "daybook.read_ahead": "\(source.readsAhead)",
            ]
        )
        metrics.backlogModeChanged(true)
        context.health.setPhase(.readingBacklog)
        defer {
            source.close()
            metrics.backlogModeChanged(false)
        }
        let started = ContinuousClock.now
        var messages = 0
        var reads = 0
        // Where the last range asked for ends; ahead of `position` while ranges are pending.
        var planned = position
        // Where the copy read ahead restarts decoding, as of the end of the last range read.
        var restart = position
        var lastReadEnd = position
        // The copy's restart position when the slot was last advanced.
        var restartAtLastAdvance = restart
        // The end of the last range processed whole, which the checkpoint may move to once
        // what was read is in the sink (nil after a range a stop request cut short).
        var settledEnd: LSN?
        // What the next read ahead decodes again: as far behind its start as the restart
        // position was behind the end of the last range read (the ranges read since are
        // assumed to have moved it along as much).
        func decodedAgain() -> UInt64? {
            guard source.readsAhead else { return nil }
            return restart < lastReadEnd ? lastReadEnd.bytes(since: restart) : 0
        }
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
            var step = plan.next(position: planned, decodable: now, end: end, decodedAgain: decodedAgain())
            while case .read(let upTo) = step, source.hasRoom {
                logger.debug(
                    "reading a range of the backlog",
                    metadata: ["daybook.from": "\(planned)", "daybook.to": "\(upTo)"]
                )
                try source.submit(upTo: upTo)
                reads += 1
                planned = upTo
                step = plan.next(position: planned, decodable: now, end: end, decodedAgain: decodedAgain())
            }
            if !source.hasPending {
                switch step {
                case .finished:
                    outcome = .finished
                    break reading
                case .stream, .read:
                    break reading
                case .wait:
                    guard waits < 100 else { break reading }
                    waits += 1
                    Thread.sleep(forTimeInterval: 0.02)
                    continue reading
                }
            }
            let health = context.health
            let waitStarted = ContinuousClock.now
            let read = try source.next(shouldStop: { stop.isStopped }, alive: { health.progressed() })
            switch read {
            case .range(let range):
                messages += range.messages
                if stop.isStopped {
                    outcome = .stopped
                    break reading
                }
                let processStarted = ContinuousClock.now
                // Reading in turn, the next read starts where the slot stands, so each range is
                // settled (in the sink, the slot moved there) before the next. Reading ahead,
                // only when the slot is to move: advancing it decodes from its restart
                // position too, worth it when that position can move (a running-transactions
                // record was passed) so that the server may recycle the WAL behind it;
                // otherwise the slot moves once, at the end.
                restart = max(restart, range.restart)
                lastReadEnd = range.end
                let moveSlot = !source.readsAhead || range.restart > restartAtLastAdvance
                let finished = try process(range, into: &session, settle: moveSlot, stop: stop)
                settledEnd = finished ? range.end : nil
                logger.debug(
                    "a range of the backlog is processed",
                    metadata: [
                        LogKey.lsn: "\(range.end)", "daybook.messages": "\(range.messages)",
                        "daybook.bytes": "\(range.byteCount)", "daybook.restart": "\(range.restart)",
                        "daybook.waited_seconds": "\(Self.seconds(since: waitStarted, until: processStarted))",
                        "daybook.processed_seconds": "\(Self.seconds(since: processStarted))",
                    ]
                )
                if moveSlot, finished {
                    try advanceSlot(to: session.processor.committedLSN)
                    restartAtLastAdvance = max(restartAtLastAdvance, range.restart)
                }
                if !source.readsAhead { planned = max(position, session.processor.committedLSN) }
                position = max(position, session.processor.committedLSN)
                metrics.position(
                    serverWALEnd: now,
                    confirmed: position,
                    serverClock: nil,
                    streamTime: session.processor.engine.streamTime,
                    caughtUp: false,
                    openWindows: session.processor.engine.openWindows.count,
                    oldestOpenWindowClosesAt: session.processor.engine.oldestOpenWindowClosesAt
                )
                if !finished {
                    outcome = .stopped
                    break reading
                }
            case .stopped:
                outcome = .stopped
                break reading
            case .unavailable(let reason):
                try finish(&session, source: source, settling: settledEnd)
                return fellBack(reason)
            }
        }
        try finish(&session, source: source, settling: settledEnd)
        position = max(position, session.processor.committedLSN)
        session.backlogRead(upTo: position)
        let seconds = Self.seconds(since: started)
        logger.info(
            outcome == .stream ? "backlog read; the replication stream takes over" : "backlog read",
            metadata: [
                LogKey.lsn: "\(position)", "daybook.messages": "\(messages)", "daybook.reads": "\(reads)",
                "daybook.seconds": "\(seconds)",
            ]
        )
        return outcome
    }

    /// Where the ranges come from: read ahead on a copy of the slot when the server allows a
    /// second connection and a slot more, else read in turn from the slot itself (on a
    /// connection of its own if there is one, else on the catalog's).
    private func openSource() throws(PostgresError) -> RangeSource {
        let slot = configuration.slot
        let why: String
        do {
            return .ahead(try AheadDecoder(slot: slot, context: context))
        } catch {
            why = error.message
        }
        let reason = "the server gave no second connection or no temporary copy of the slot (\(why))"
        do {
            let connection = try PostgresConnection(
                configuration.source,
                applicationName: BacklogPlan.applicationName(slot: slot)
            )
            logger.notice("reading the backlog without overlap", metadata: [LogKey.why: "\(reason)"])
            return .inTurn(
                try SQLDecodingReader(connection: connection, slot: slot, publications: configuration.publications),
                onCatalog: false
            )
        } catch {
            logger.notice("reading the backlog without overlap", metadata: [LogKey.why: "\(reason)"])
            return .inTurn(
                try SQLDecodingReader(connection: catalog, slot: slot, publications: configuration.publications),
                onCatalog: true
            )
        }
    }

    /// Seconds between two instants, to the hundredth, for the log.
    private static func seconds(
        since start: ContinuousClock.Instant,
        until end: ContinuousClock.Instant = .now
    ) -> String {
        String(format: "%.2f", Double((end - start).nanoseconds) / 1e9)
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

    /// Ends a range's processing for a stop signal.
    private struct StoppedReading: Error {}

    /// Processes one range read; with `settle`, also waits until it is in the sink. False when
    /// a stop request ended it between two transactions.
    private func process(
        _ range: DecodedRange,
        into session: inout StreamSession,
        settle: Bool,
        stop: StopSignal
    ) throws -> Bool {
        let health = context.health
        var stopped = false
        do {
            try range.forEachMessage { lsn, payload in
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
        }
        if settle || stopped { try Self.settle(&session, upTo: stopped ? nil : range.end) }
        return !stopped
    }

    /// Puts everything processed in the sink and, given the end of the last range processed
    /// whole, moves the checkpoint there: every transaction committing up to it has been read
    /// and is in the sink (none is open: a read returns whole transactions). The slot follows
    /// the checkpoint, never passing it (SinkGap).
    private static func settle(_ session: inout StreamSession, upTo end: LSN?) throws {
        try session.checkpointIfDue(force: true)
        try session.finishWrites()
        if let end {
            try session.advanceCheckpointIfIdle(to: end)
            try session.finishWrites()
        }
    }

    /// Moves the slot to `target`, what the sink has committed, if that is past where it is.
    private mutating func advanceSlot(to target: LSN) throws {
        guard target > slotConfirmed else { return }
        logger.debug("advancing the slot", metadata: [LogKey.lsn: "\(target)"])
        let slot = configuration.slot
        slotConfirmed = try DaybookError.mapping(role: .source) { [catalog] in try catalog.advanceSlot(slot, to: target)
        }
    }

    /// Ends the reads (dropping what was read ahead: a later run or the stream reads it again),
    /// settles what was processed (up to `settledEnd`, the end of the last range processed
    /// whole) and moves the slot to what the sink holds, unless a read in turn on the catalog's
    /// connection was abandoned mid-way and left that connection unusable.
    private mutating func finish(_ session: inout StreamSession, source: RangeSource, settling settledEnd: LSN?) throws
    {
        source.close()
        try Self.settle(&session, upTo: settledEnd)
        guard !source.catalogUnusable else { return }
        try advanceSlot(to: session.processor.committedLSN)
    }
}
