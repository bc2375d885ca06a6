import Foundation
import PostgresReplication
import WAL

/// A live service under steady load: how far behind the slot's confirmed position is, in
/// time, sampled every 50 ms.
///
/// The lag at a sample is how long ago the WAL position the slot has confirmed was the
/// server's current position: zero when everything written is in the sink, and otherwise
/// the age of the oldest change not yet committed to the sink.
struct LagBenchmark {
    let environment: BenchEnvironment
    let tools: Tools

    /// - Parameter closingKeys: new keys written into one day before the load; ten seconds into
    ///   the load the source's clock moves a day ahead, so that day closes under the load.
    func run(changesPerSecond: Int, seconds: Int, checkpointEvery: String, closingKeys: Int = 0) throws {
        let name = "bench_lag"
        let source = try environment.createSourceDatabase(name)
        let connection = try PostgresConnection(ConnectionString(source))
        // Commits flushed at once, as in production: with synchronous_commit off the WAL
        // writer's delay (200 ms) would hold every change back from the walsender.
        try connection.simpleQuery("ALTER DATABASE \(name) SET synchronous_commit = on")
        try connection.simpleQuery(BenchmarkSchema.create)
        try connection.simpleQuery("CALL bench.prefill(100000)")
        try connection.simpleQuery(
            "CREATE PUBLICATION bench FOR TABLE \(BenchmarkSchema.tables.joined(separator: ", "))"
        )
        let slot = "\(name)_slot"
        let clock = closingKeys > 0 ? environment.sourceClock : nil
        if closingKeys > 0, clock == nil { throw BenchError("--closing-keys needs a movable source clock") }
        try clock?.set(offsetSeconds: 0)
        try environment.slots.create(slot, on: source)
        defer { environment.slots.drop(slot) }
        if closingKeys > 0 {
            // The day that will close: new keys after the prefilled ones, through the slot.
            try connection.query("CALL bench.generate('inserts', $1, 10000, 100000, 1)", [String(closingKeys)])
        }
        let sink = try environment.createSinkDatabase("\(name)_sink", daybook: tools.daybook)

        let log = "\(tools.logDirectory)/\(slot).log"
        let service = try MeasuredProcess.spawn(
            tools.daybook,
            [
                "run", "--database", source, "--sink", sink, "--slot", slot, "--publication", "bench",
                "--checkpoint-every", checkpointEvery,
            ],
            logFile: log
        )
        let serviceStarted = ContinuousClock.now
        var serviceReaped = false
        defer {
            if !serviceReaped {
                kill(service, SIGKILL)
                _ = try? MeasuredProcess.reap(service, started: serviceStarted)
            }
        }
        try waitForActiveSlot(slot, connection)
        if closingKeys > 0 { try waitForCaughtUp(slot, connection) }

        // Ten changes per transaction: one UPDATE of ten consecutive keys.
        let script = "\(tools.logDirectory)/lag.pgbench"
        try "\\set k random(1, 99990)\nUPDATE bench.orders SET amount = amount + 1 WHERE id BETWEEN :k AND :k + 9;\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let transactionsPerSecond = max(1, changesPerSecond / 10)
        let load = try MeasuredProcess.spawn(
            tools.pgbench,
            [
                "--no-vacuum", "--client", "4", "--jobs", "2", "--rate", String(transactionsPerSecond),
                "--time", String(seconds), "--file", script, source,
            ],
            logFile: "\(tools.logDirectory)/lag-pgbench.log"
        )
        let loadStarted = ContinuousClock.now

        var history: [(time: Double, lsn: LSN)] = []
        var lags: [Double] = []
        var clockMoved = false
        let sampler = try PostgresConnection(ConnectionString(source))
        // Sample times are this process's own clock: the server's may jump a day.
        while ContinuousClock.now - loadStarted < .seconds(seconds) {
            if let clock, !clockMoved, ContinuousClock.now - loadStarted >= .seconds(10) {
                try clock.set(offsetSeconds: 26 * 3600)
                clockMoved = true
            }
            let row = try sampler.query(
                "SELECT pg_current_wal_lsn()::text, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                [slot]
            ).rows.first
            let time = (ContinuousClock.now - loadStarted).seconds
            if let row, let current = row[0].flatMap(LSN.init), let confirmed = row[1].flatMap(LSN.init) {
                history.append((time, current))
                // The first moment the server's position reached what the slot confirmed.
                let reached = history.first { $0.lsn >= confirmed }?.time ?? time
                if time - history[0].time >= 5 { lags.append(confirmed >= current ? 0 : time - reached) }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let loadResult = try MeasuredProcess.reap(load, started: loadStarted)
        kill(service, SIGTERM)
        let serviceResult = try MeasuredProcess.reap(service, started: serviceStarted)
        serviceReaped = true
        try clock?.set(offsetSeconds: 0)
        let changes =
            try PostgresConnection(ConnectionString(sink)).query(
                "SELECT coalesce(sum(updates), 0) FROM daybook.table_windows"
            ).scalar.flatMap { Int($0) } ?? 0
        let sorted = lags.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        say(
            "\n## live service at \(changesPerSecond.formatted()) changes/s for \(seconds) s (--checkpoint-every \(checkpointEvery))"
        )
        if closingKeys > 0 {
            let closed = try WindowClosedLine.last(in: log)
            say(
                "a day of \(closingKeys.formatted()) new keys closed under the load, 10 s in: "
                    + (closed.map {
                        "made final in \($0.sinkSeconds) s of sink time beside the stream, \($0.keys) keys"
                    }
                        ?? "it did not close (see \(log))")
            )
        }
        say(
            "changes summarised: \(changes.formatted()) (\(Int(Double(changes) / Double(seconds)).formatted())/s); "
                + "pgbench exit \(loadResult.status)"
        )
        say(
            "slot lag over \(sorted.count) samples (every 50 ms; each within one sample) after 5 s of warm-up: p50 \(milliseconds(percentile(0.5))) ms, "
                + "p99 \(milliseconds(percentile(0.99))) ms, max \(milliseconds(sorted.last ?? .nan)) ms"
        )
        say(
            "daybook: CPU \(format(serviceResult.cpu)) s over \(format(serviceResult.wall)) s "
                + "(\(Int(100 * serviceResult.cpu / serviceResult.wall)) % of one core), peak \(serviceResult.peakResidentBytes >> 20) MB"
        )
    }

    private func waitForActiveSlot(_ slot: String, _ connection: PostgresConnection) throws {
        for _ in 0..<200 {
            if try connection.query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar
                == "t"
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BenchError("daybook did not start streaming slot \(slot)")
    }

    /// Waits until the slot has confirmed everything written so far (the day's keys are in the sink).
    private func waitForCaughtUp(_ slot: String, _ connection: PostgresConnection) throws {
        let end = try connection.query("SELECT pg_current_wal_lsn()::text").scalar.flatMap(LSN.init) ?? 0
        for _ in 0..<6000 {
            let confirmed =
                try connection.query(
                    "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                    [slot]
                ).scalar.flatMap(LSN.init) ?? 0
            if confirmed >= end { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BenchError("daybook did not catch up with the day's keys within 10 minutes")
    }

    private func milliseconds(_ seconds: Double) -> String {
        seconds.isNaN ? "n/a" : String(Int((seconds * 1000).rounded()))
    }
}
