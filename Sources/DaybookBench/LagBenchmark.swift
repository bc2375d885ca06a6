import Foundation
import PostgresReplication
import WAL

/// A live service under steady load: how far behind the slot's confirmed position is, in
/// time, sampled every 50 ms (``SlotLag``): zero when everything written is in the sink, and
/// otherwise the age of the oldest change not yet committed to the sink.
struct LagBenchmark {
    let environment: BenchEnvironment
    let tools: Tools

    /// - Parameter closingKeys: new keys written into one day before the load; ten seconds into
    ///   the load the source's clock moves a day ahead, so that day closes under the load.
    func run(changesPerSecond: Int, seconds: Int, checkpointEvery: String, closingKeys: Int = 0) throws {
        let name = "bench_lag"
        let live = try LiveSource(name, in: environment)
        let source = live.connectionString
        let connection = live.connection
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
        try live.waitForActiveSlot(slot)
        if closingKeys > 0 { try waitForCaughtUp(slot, connection) }

        let load = try UpdateLoad(changesPerSecond: changesPerSecond, transactionSize: 10, seconds: seconds)
            .start(tools, source: source, logFile: "\(tools.logDirectory)/lag-pgbench.log")
        let loadStarted = ContinuousClock.now
        var clockMoved = false
        let lag = try SlotLag.sample(slot, on: source, from: loadStarted, seconds: seconds) { time in
            if let clock, !clockMoved, time >= 10 {
                try clock.set(offsetSeconds: 26 * 3600)
                clockMoved = true
            }
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
        func percentile(_ fraction: Double) -> Double { SlotLag.percentile(fraction, of: lag.confirmed) }
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
            "slot lag over \(lag.confirmed.count) samples (every 50 ms; each within one sample) after 5 s of warm-up: p50 \(milliseconds(percentile(0.5))) ms, "
                + "p99 \(milliseconds(percentile(0.99))) ms, max \(milliseconds(lag.confirmed.max() ?? .nan)) ms"
        )
        say(
            "daybook: CPU \(format(serviceResult.cpu)) s over \(format(serviceResult.wall)) s "
                + "(\(Int(100 * serviceResult.cpu / serviceResult.wall)) % of one core), peak \(serviceResult.peakResidentBytes >> 20) MB"
        )
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

}
