import DaybookCore
import Foundation
import Logging
import PgOutput
import PostgresReplication
import WAL
import Windowing

/// The I/O shell around ``ChangeProcessor``: reads the slot, writes checkpoints to the sink,
/// confirms the slot only up to what the sink committed, and reconnects after faults.
///
/// It blocks its thread (libpq), so ``DaybookService`` runs it on a dedicated one.
public final class ReplicationPipeline {
    private let context: RunContext
    private let stop: StopSignal
    public var configuration: RunConfiguration { context.configuration }
    private var logger: Logger { context.logger }
    private var metrics: PipelineMetrics { context.metrics }
    private var health: ServiceHealth { context.health }

    public init(context: RunContext, stop: StopSignal) {
        self.context = context
        self.stop = stop
    }

    /// Runs until stopped (or caught up, with `untilCaughtUp`).
    ///
    /// Faults before the stream first starts are configuration problems and end the run with
    /// their advice; after that, dropped connections are retried with backoff, each time
    /// resuming from the sink's checkpoint.
    public func run() throws(DaybookError) {
        defer {
            health.setPhase(.stopped)
            metrics.streamingChanged(false)
        }
        var started = false
        var attempt = 0
        while !stop.isStopped {
            do {
                try runSession(onStarted: {
                    started = true
                    attempt = 0
                })
                return
            } catch let error as DaybookError {
                // A catch-up run is a batch job: after a few attempts it gives up and says why,
                // rather than stacking up behind tomorrow night's run.
                guard started, error.isRetryable, !(configuration.untilCaughtUp && attempt >= 4) else { throw error }
                attempt += 1
                health.setPhase(.reconnecting(attempt: attempt, reason: error.publicMessage))
                metrics.streamingChanged(false)
                metrics.reconnected()
                let delay = retryDelaySeconds(attempt: attempt)
                logger.warning(
                    "connection lost; reconnecting",
                    metadata: [LogKey.error: "\(error.message)", LogKey.attempt: "\(attempt)"]
                )
                sleep(seconds: delay)
            } catch {
                throw DaybookError(.query, "\(error)")
            }
        }
    }

    private func sleep(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while !stop.isStopped, Date() < deadline {
            health.progressed()
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// One connected session: from loading the checkpoint to a stop or a fault.
    private func runSession(onStarted: () -> Void) throws {
        let slot = configuration.slot
        let sinkConnection = try PostgresConnection.open(configuration.sink, role: .sink)
        try Migrator.requireCurrent(sinkConnection)
        let stored = try DaybookError.mapping(role: .sink) {
            try StoredWindowSettings.load(sinkConnection, slot: slot)
        }
        let windows = try configuration.windows.resolve(stored: stored)
        let sink = Sink(connection: sinkConnection, slot: slot, settings: windows)
        try sink.requireDurableCommits()
        sink.seenKeysMaximumSlots = SeenKeys.slots(forBytes: configuration.keyMemoryBytes)
        // A second connection stores large checkpoints' value events beside the rest; without
        // one (a connection limit), they go on the first, as before.
        sink.openEventsConnection = { [configuration, logger] in
            do throws(DaybookError) {
                let connection = try PostgresConnection.open(configuration.sink, role: .sink)
                logger.info("value events of large checkpoints go on a second sink connection")
                return connection
            } catch {
                logger.notice(
                    "value events are written on the sink's one connection: a second could not be opened",
                    metadata: [LogKey.why: "\(error.message)"]
                )
                return nil
            }
        }

        let catalog = try PostgresConnection.open(configuration.source, role: .source)
        let stream: ReplicationStream
        let identity: ReplicationStream.SystemIdentity
        let standby: Bool
        // Only read, to word a missing slot's error: nothing is written before the source is checked.
        let resultsUpTo = (try? CheckpointRow.read(slot: slot, on: sinkConnection))??.lsn
        do {
            stream = try ReplicationStream(configuration.source)
            standby = try SourcePreflight.check(
                stream.connection,
                slot: slot,
                publications: configuration.publications,
                idleWatermark: configuration.idleWatermark,
                heartbeatsHere: configuration.heartbeatsToSource,
                resultsUpTo: resultsUpTo
            )
            identity = try stream.identifySystem()
        } catch let error as PostgresError {
            throw DaybookError.from(error, role: .source)
        }
        // A sink that lost commits is refused before anything is written to it, unless the
        // operator accepted the gap.
        let verdict = try SinkGap.verdict(sink: sinkConnection, catalog: catalog, slot: slot)
        if case .refuse(let gap) = verdict, !configuration.acceptGap { throw SinkGap.refusal(slot: slot, gap: gap) }
        // Only now, with the source and the sink's position checked, is anything written to the sink.
        try sink.claimSlot()
        var state = try DaybookError.mapping(role: .sink) { try sink.loadState() }
        switch verdict {
        case .adopt(let lsn):
            try sink.adoptSlotPosition(lsn)
            if lsn > state.lsn {
                logger.notice(
                    """
                    the slot was confirmed past the sink's checkpoint by an earlier Daybook (an idle stretch it did not \
                    record); taking the slot's position, from which on a sink that loses commits is refused
                    """,
                    metadata: [LogKey.slot: "\(slot)", LogKey.lsn: "\(lsn)"]
                )
                state = try DaybookError.mapping(role: .sink) { try sink.loadState() }
            }
        case .refuse(let gap):
            let clock = try DaybookError.mapping(role: .source) { try catalog.query("SELECT now()::text").scalar }
            try sink.recordGap(gap, sourceClock: clock ?? "infinity")
            logger.warning(
                """
                the sink lost commits the slot had confirmed; going on as --accept-gap asks: the gap is recorded, and the \
                windows it may touch are reported as incomplete
                """,
                metadata: [LogKey.slot: "\(slot)", "daybook.gap": "\(gap.from)..\(gap.to)"]
            )
            state = try DaybookError.mapping(role: .sink) { try sink.loadState() }
        case .proceed:
            if configuration.acceptGap {
                logger.notice("--accept-gap: the sink holds everything the slot confirmed, no gap; nothing recorded")
            }
        }
        try sink.loadGapRefinement()
        metrics.gapsRecorded(try DaybookError.mapping(role: .sink) { try Gaps.count(slot: slot, sinkConnection) })
        try windows.checkCompatible(with: state, slot: slot)
        if let timeline = state.timeline, state.lsn > 0 {
            let history = try DaybookError.mapping(role: .source) { try stream.timelineHistory(identity.timeline) }
            try TimelineCheck.verify(
                slot: slot,
                lsn: state.lsn,
                checkpointTimeline: timeline,
                serverTimeline: identity.timeline,
                history: TimelineCheck.parseHistory(history)
            )
        }
        sink.sourceTimeline = identity.timeline
        logger.info(
            "resuming from checkpoint",
            metadata: [
                LogKey.slot: "\(slot)", LogKey.lsn: "\(state.lsn)",
                "daybook.windows":
                    "\(windows.length) in \(windows.timeZoneName), grace \(HumanDuration.text(seconds: Double(windows.grace.components.seconds)))",
                LogKey.streamTime: "\(state.streamTime.map { "\($0)" } ?? "none")",
                LogKey.source: "\(stream.connection.safeDescription)\(standby ? " (a standby)" : "")",
                LogKey.sink: "\(sinkConnection.safeDescription)",
            ]
        )

        var settings = configuration.processor
        settings.slot = slot
        // Rules that hash columns name their key file; the processor asks for a key when a
        // rule needs it, and a file that cannot be read, or holds another key, stops the run.
        settings.valueKey = { file, id in
            do throws(DaybookError) {
                return .success(try SecretFile.valueKey(file, expectedID: id))
            } catch {
                return .failure(ChangeProcessor.ValueKeyProblem(error.message))
            }
        }
        var processor = ChangeProcessor(
            engine: windows.engine(resuming: state),
            committedLSN: state.lsn,
            lastHeartbeat: state.lastHeartbeat,
            captureRules: state.captureRules,
            tableShapes: state.tableShapes,
            settings: settings
        )
        processor.closeDueAtStartup()
        var caughtUpTarget: LSN?
        if let end = configuration.untilLSN {
            caughtUpTarget = end
        } else if configuration.untilCaughtUp {
            // The insert position, not IDENTIFY_SYSTEM's flush position: commits made with
            // synchronous_commit = off just before the run must be included too.
            do {
                let insert = try catalog.query("SELECT (\(WALPositionSQL.insert))::text").scalar.flatMap(LSN.init)
                caughtUpTarget = max(insert ?? identity.walPosition, identity.walPosition)
            } catch {
                throw DaybookError.from(error, role: .source)
            }
        }
        // Closed windows are made final on a sink connection of their own, beside the stream.
        let finisherSink = Sink(
            connection: try PostgresConnection.open(configuration.sink, role: .sink),
            slot: slot,
            settings: windows
        )
        finisherSink.maxEventsPerKey = configuration.maxEventsPerKey
        finisherSink.pruneKeep = configuration.pruneKeep
        let finisher = WindowFinisher(sink: finisherSink, logger: logger)
        defer { finisher.close() }
        let writer = CheckpointWriter(sink: sink, context: context)
        defer { writer.close() }
        var session = StreamSession(
            processor: processor,
            writer: writer,
            stream: stream,
            catalog: catalog,
            primaryKeys: try PrimaryKeyCatalog.load(publications: configuration.publications, on: catalog),
            context: context,
            runEnd: caughtUpTarget
        )
        session.onWindowsClosing = { finisher.wake() }
        // Windows already due close before streaming starts.
        try session.checkpointIfDue(force: true)
        try session.finishWrites()

        onStarted()
        var backlog = BacklogReader(
            plan: configuration.backlog,
            end: caughtUpTarget,
            catalog: catalog,
            context: context
        )
        switch try backlog.read(into: &session, stop: stop) {
        case .stopped:
            return
        case .finished:
            logger.info("caught up", metadata: [LogKey.lsn: "\(session.processor.committedLSN)"])
            if !stop.isStopped { try finisher.waitUntilIdle() }
            return
        case .stream:
            break
        }
        do {
            // The server starts at the later of this and the slot's position, where a backlog
            // read left it.
            try stream.start(
                slot: slot,
                at: session.processor.committedLSN,
                publications: configuration.publications,
                messages: true,
                streamInProgress: configuration.streamLargeTransactions
            )
        } catch {
            throw DaybookError.from(error, role: .source)
        }
        health.setPhase(.streaming)
        metrics.streamingChanged(true)
        defer { stream.finish() }
        try session.pump(until: stop)
        // A catch-up run ends with the windows it closed final, ready for the night's report.
        if configuration.untilCaughtUp, !stop.isStopped { try finisher.waitUntilIdle() }
    }
}

/// How long to wait before retry `attempt` (1, 2, …) after a sink or source fault: doubling
/// from one second, at most 30.
func retryDelaySeconds(attempt: Int) -> Double {
    min(30.0, 0.5 * pow(2.0, Double(min(attempt, 6))))
}
