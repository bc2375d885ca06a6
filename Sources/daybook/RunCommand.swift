import ArgumentParser
import Daybook
import DaybookDelivery
import DaybookHTTP
import Foundation
import Logging
import PgOutput
import ServiceLifecycle
import WAL
import Windowing

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream changes from the slot into daily windows and write each window's final results.",
        discussion: """
            A window [start, start + length) closes once stream time (the latest commit time seen, heartbeats \
            included) reaches its end plus --grace; its results are then final and written once. Changes that \
            arrive for a closed window are recorded as late, never merged. Results, open-window state and the \
            checkpoint are written in one transaction, and the slot is confirmed only after it commits: a \
            crash at any moment neither loses nor doubles a change. On start, the persisted stream time closes \
            whatever is already due. SIGTERM or SIGINT writes a last checkpoint and exits.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup(title: "HTTP (metrics and health)") var http: HTTPOptions
    @OptionGroup(title: "Delivery") var delivery: DeliveryOptions

    @Flag(
        name: .long,
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Deliver closed days to the destinations of `daybook notify` (default on; not with --until-caught-up).",
            discussion: "Any number of senders may run against one sink (another run, serve --deliver, notify send "
                + "from cron): each destination is sent to by one of them at a time, in order. A run that stops once "
                + "caught up sends nothing: follow it with `daybook notify send`."
        )
    )
    var deliver = true

    @Option(name: .long, parsing: .upToNextOption, help: "Publication(s) to stream.")
    var publication: [String] = ["daybook"]

    @Option(
        name: .long,
        help:
            "Window length: whole days (1d), or a length that divides a day (2s, 15m, 1h). Default: the slot's, else 1d."
    )
    var window: String?

    @Option(
        name: .long,
        help: "How long after a window's end changes are still merged (e.g. 30m). Default: the slot's, else 30m."
    )
    var grace: String?

    @Option(
        name: .long,
        help: "IANA time zone whose midnights start the windows (e.g. Europe/Berlin). Default: the slot's, else UTC."
    )
    var timeZone: String?

    @Option(name: .long, help: "Longest time a processed change waits before it is checkpointed (e.g. 500ms, 1s).")
    var checkpointEvery: String = "250ms"

    @Option(name: .long, help: "Checkpoint once this many changes are pending.")
    var batchSize: Int = 50_000

    @Option(
        name: .long,
        help:
            "At close, keep at most N events per key of a values table: the first N-1 and the last (the rest are counted)."
    )
    var maxEventsPerKey: Int = 1_000

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Memory, in MiB per open window, for remembering which keys were already written (default 64: about 12 million keys).",
            discussion: "A key written again is flagged, and closing the window merges only the flagged keys' rows. "
                + "Past this memory every further row is flagged: the close does more work, the results stay the same. "
                + "0 keeps only a few hundred keys.",
            valueName: "MiB"
        )
    )
    var keyMemory: Int = 64

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Whenever windows close, prune the per-key rows and events of windows that ended longer ago (e.g. 90d), as `daybook prune --keep` does.",
            valueName: "age"
        )
    )
    var pruneKeep: String?

    @Flag(name: .long, help: "Stop once everything written before the start is in the sink.")
    var untilCaughtUp = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Go on when the sink lost commits the slot had confirmed, and record the gap.",
            discussion: "Without it, a sink restored from a backup or failed over to a standby that had not replayed "
                + "its last commits is refused (exit 4): the changes it lost cannot be read again. With it, the gap "
                + "is recorded in the sink (daybook status lists it) and every report, API response and dashboard "
                + "view of a window it may touch says that the window is incomplete. With no gap it does nothing."
        )
    )
    var acceptGap = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Stop once everything up to this WAL position (e.g. 0/24B7D0B0) is in the sink.",
            discussion: "Like --until-caught-up with a fixed end instead of the server's position at the start: "
                + "for replaying exactly up to a known point, and for benchmarks against pg_recvlogical --endpos."
        )
    )
    var untilLSN: String?

    @Flag(
        name: .long,
        help:
            "Let the server's clock move stream time while the stream is fully caught up (closes windows with no writes)."
    )
    var idleWatermark = false

    @Flag(
        name: .long,
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Receive transactions larger than the server's logical_decoding_work_mem while they run (default on).",
            discussion:
                "With --streaming the server streams such a transaction in chunks as it is written; Daybook holds "
                + "them in the sink until the commit and counts them then, so the results arrive seconds after a huge "
                + "COMMIT, not after the server has decoded it again from disk. --no-streaming asks for the old behaviour."
        )
    )
    var streaming = true

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Memory for the chunks of streamed transactions not yet committed, in MiB (default 8); past it they wait in the sink.",
            valueName: "MiB"
        )
    )
    var streamMemory: Int = 8

    @Flag(
        name: .long,
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "Read a backlog through SQL decoding, at the server's decoding speed, before streaming.",
            discussion:
                "A run that starts at least --backlog-threshold behind, and every --until-caught-up or --until-lsn run, "
                + "reads the backlog through SQL decoding over COPY in ranges of WAL, advancing the slot only to what the "
                + "sink has committed, then streams the live tail. The server decodes the next ranges on a temporary copy "
                + "of the slot while Daybook processes the current one; without a second connection or a free "
                + "replication slot, one line says so and the ranges are read in turn. Needs EXECUTE on "
                + "pg_logical_slot_peek_binary_changes and pg_replication_slot_advance (without it, one line says so and "
                + "the stream reads everything)."
        )
    )
    var backlogMode = true

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Use backlog mode when the slot starts at least this far behind, in MiB of WAL.",
            valueName: "MiB"
        )
    )
    var backlogThreshold: Int = 64

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The most WAL one backlog read covers, in MiB.",
            discussion:
                "The server keeps one read's decoded changes in temporary files until they are sent (about half the WAL "
                + "for narrow rows, more for large values), so this bounds that space; it is capped at half of the "
                + "server's temp_file_limit. Reads are 16 MiB while the slot's restart position follows them (a backlog "
                + "written over hours: the server moves it every 15 s of the original writes) and grow up to this "
                + "while it stays behind (a bulk load), since each read decodes again from it: a lower value makes "
                + "such a backlog cost the server more.",
            valueName: "MiB"
        )
    )
    var backlogChunk: Int = 1024

    @Option(name: .long, help: "Also inject a heartbeat this often (e.g. 5m), for deployments without cron.")
    var heartbeatEvery: String?

    @Option(name: .long, help: "How --heartbeat-every makes its heartbeat: table or message.")
    var heartbeatVia: Heartbeat.Method = .table

    func validate() throws {
        try http.check()
        try delivery.check()
        _ = try windowRequest()
        guard (1...10_000_000).contains(batchSize) else {
            throw ValidationError("--batch-size must be from 1 to 10000000")
        }
        guard (2...1_000_000).contains(maxEventsPerKey) else {
            throw ValidationError(
                "--max-events-per-key must be from 2 to 1000000 (the first events and the last are kept)"
            )
        }
        guard (0...16_384).contains(keyMemory) else {
            throw ValidationError("--key-memory must be from 0 to 16384 (MiB)")
        }
        guard (1...4_096).contains(streamMemory) else {
            throw ValidationError("--stream-memory must be from 1 to 4096 (MiB)")
        }
        guard (1...1_048_576).contains(backlogThreshold) else {
            throw ValidationError("--backlog-threshold must be from 1 to 1048576 (MiB)")
        }
        guard (1...1_048_576).contains(backlogChunk) else {
            throw ValidationError("--backlog-chunk must be from 1 to 1048576 (MiB)")
        }
        _ = try checkpointInterval()
        if let pruneKeep { _ = try parseSeconds(pruneKeep, option: "--prune-keep") }
        _ = try heartbeatInterval()
        _ = try endLSN()
    }

    /// What the API's status shows: warnings by this run's heartbeat interval when it makes them.
    private func statusReport() throws -> StatusReport {
        var report = StatusReport(slot: connection.slot)
        report.publication = publication.first ?? "daybook"
        if let interval = try heartbeatInterval() { report.heartbeatInterval = interval }
        return report
    }

    private func endLSN() throws -> LSN? {
        guard let untilLSN else { return nil }
        guard let lsn = LSN(untilLSN) else {
            throw ValidationError(
                "--until-lsn '\(untilLSN)' is not a WAL position: write it as PostgreSQL does, e.g. 0/24B7D0B0"
            )
        }
        return lsn
    }

    private func heartbeatInterval() throws -> Duration? {
        guard let heartbeatEvery else { return nil }
        do {
            let interval = try DurationText.duration(heartbeatEvery)
            guard interval >= .milliseconds(100) else {
                throw ValidationError("--heartbeat-every must be at least 100ms")
            }
            return interval
        } catch let error as DurationText.InvalidDuration {
            throw ValidationError("--heartbeat-every: \(error)")
        }
    }

    private func checkpointInterval() throws -> Duration {
        do {
            let interval = try DurationText.duration(checkpointEvery)
            guard interval > .zero else { throw ValidationError("--checkpoint-every must be longer than 0") }
            return interval
        } catch let error as DurationText.InvalidDuration {
            throw ValidationError("--checkpoint-every: \(error)")
        }
    }

    private func parseSeconds(_ text: String, option: String) throws -> Int64 {
        do { return try DurationText.seconds(text) } catch { throw ValidationError("\(option): \(error)") }
    }

    /// The window settings given on the command line; the rest comes from the slot.
    private func windowRequest() throws -> WindowRequest {
        var request = WindowRequest()
        if let window {
            do { request.length = try WindowLength(seconds: try parseSeconds(window, option: "--window")) } catch let
                error as WindowLength.InvalidLength
            {
                throw ValidationError("--window: \(error)")
            }
        }
        if let grace { request.grace = .seconds(try parseSeconds(grace, option: "--grace")) }
        if let timeZone {
            guard TimeZone(identifier: timeZone) != nil else {
                throw ValidationError(
                    "--time-zone '\(timeZone)' is not an IANA time zone (for example UTC, Europe/Berlin)"
                )
            }
            request.timeZoneName = timeZone
        }
        return request
    }

    func run() async throws {
        try bootstrapLogging(level: logging.logLevel)
        var configuration = RunConfiguration(
            source: connection.source,
            sink: connection.sinkConnection,
            slot: connection.slot,
            publications: publication,
            windows: try windowRequest()
        )
        configuration.checkpointInterval = try checkpointInterval()
        configuration.maxBatchChanges = batchSize
        configuration.maxEventsPerKey = maxEventsPerKey
        configuration.keyMemoryBytes = keyMemory << 20
        configuration.pruneKeep = try pruneKeep.map { .seconds(try parseSeconds($0, option: "--prune-keep")) }
        configuration.untilLSN = try endLSN()
        configuration.untilCaughtUp = untilCaughtUp || configuration.untilLSN != nil
        configuration.idleWatermark = idleWatermark
        configuration.acceptGap = acceptGap
        configuration.streamLargeTransactions = streaming
        configuration.heartbeatsToSource = heartbeatEvery != nil && connection.primaryConnection == nil
        configuration.streamHoldBytes = streamMemory << 20
        configuration.backlog.isEnabled = backlogMode
        configuration.backlog.thresholdBytes = UInt64(backlogThreshold) << 20
        configuration.backlog.chunkBytes = UInt64(backlogChunk) << 20
        let logger = Logger(label: "daybook")
        // The group shuts services down in reverse order: the replication service (listed
        // last) writes its last checkpoint first, and a heartbeat stuck on a slow server
        // cannot delay that; the HTTP server (first) answers until the end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let health = ServiceHealth()
        var lagHistory: LagHistory?
        if let address = try http.address() {
            lagHistory = LagHistory()
            // Before any metric exists: swift-metrics binds each metric to the factory of its day.
            let registry = MetricsRegistry.bootstrap()
            let reader = SinkReader(
                sink: connection.sinkConnection,
                source: connection.source,
                status: try statusReport()
            )
            // The stream counts its own metrics; the deliveries' come from the sink, whoever sent.
            let observer = SinkObserver(reader: reader)
            services.append(
                .init(
                    service: DaybookHTTPServer(
                        address: address,
                        policy: try http.policy(for: address),
                        metrics: registry,
                        health: .pipeline(health),
                        api: DaybookAPI(reader: reader, logger: logger),
                        lagHistory: lagHistory,
                        mode: "streaming",
                        logger: logger,
                        beforeScrape: { await observer.recordDeliveries() }
                    )
                )
            )
        }
        let service = DaybookService(
            context: RunContext(
                configuration: configuration,
                logger: logger,
                metrics: PipelineMetrics(lagHistory: lagHistory),
                health: health
            )
        )
        if let interval = try heartbeatInterval() {
            services.append(
                .init(
                    service: HeartbeatService(
                        source: connection.writableSource,
                        interval: interval,
                        method: heartbeatVia,
                        publication: publication.first ?? "daybook",
                        logger: logger
                    )
                )
            )
        }
        // Before the stream: shut down after it (in reverse order), so that a delivery waiting
        // for a slow receiver never delays the last checkpoint.
        if deliver && !configuration.untilCaughtUp {
            services.append(
                .init(
                    service: try delivery.service(
                        sink: connection.sinkConnection,
                        logger: logger,
                        startWhen: { health.hasStarted }
                    )
                )
            )
        }
        services.append(.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup))
        // After the stream: told of a stop first, it says STOPPING=1 while the checkpoint is written.
        if let notifier = SystemdNotifierService(
            health: health,
            slot: configuration.slot,
            logger: logger,
            environment: ProcessInfo.processInfo.environment
        ) {
            services.append(.init(service: notifier, successTerminationBehavior: .ignore))
        }
        try await reportingErrorsAsync {
            let group = ServiceGroup(
                configuration: .init(
                    services: services,
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
        }
    }
}
