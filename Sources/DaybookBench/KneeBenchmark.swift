import Foundation
import PostgresReplication

/// The live limit: the highest steady rate of changes one slot carries with its client's lag
/// under a second at p99, found by steps, for Daybook and for pg_recvlogical on the same server
/// and workload.
///
/// Each step is a fresh slot and client under `stepSeconds` of pgbench at one rate. The rate
/// doubles while the client keeps up, then the search halves the interval between the last
/// rate kept up with and the first one not. The lag each client is judged by:
/// - Daybook: the slot's confirmed position, which moves only once the sink committed (its
///   checkpoint interval is inside this lag).
/// - pg_recvlogical: what the walsender has sent it. It confirms only once per
///   `--status-interval`, whole seconds, so its confirmed lag is about a second at any rate;
///   what it was sent trails only by what it has not read yet.
/// A step whose load fell short of the rate (pgbench's own limit on this machine) is judged at
/// the rate it wrote; if the client kept up there, the knee is at least that rate.
struct KneeBenchmark {
    enum Client: String, CaseIterable {
        case daybook
        case pgRecvlogical = "pg_recvlogical"
    }

    struct Step {
        var rate: Int
        var achieved: Double
        var lag: SlotLag
        var client: Measurement
        var judgedLag: [Double]
        var lagLimit: Double

        /// pgbench wrote less than 95% of the rate asked (its own limit on this machine).
        var loadFellShort: Bool { achieved < 0.95 * Double(rate) }
        /// The rate the step is judged at: what was asked, or what the load wrote if less.
        var writtenRate: Int { loadFellShort ? Int(achieved) : rate }
        var keptUp: Bool { SlotLag.percentile(0.99, of: judgedLag) < lagLimit }
    }

    let environment: BenchEnvironment
    let tools: Tools
    /// Daybook's capture level of every table: `keys` or `values`.
    var level = "keys"
    var stepSeconds = 30
    var transactionSize = 10
    /// Seconds of lag at p99 a client may have and still keep up.
    var lagLimit = 1.0

    func run(clients: [Client], startRate: Int, maxRate: Int, refinements: Int) throws {
        let live = try LiveSource("bench_knee", in: environment)
        for client in clients {
            say(
                "\n## the live knee of \(client.rawValue)\(client == .daybook ? " at \(level)" : ""): steps of "
                    + "\(stepSeconds) s, \(transactionSize) changes per transaction, lag p99 under "
                    + "\(milliseconds(lagLimit)) ms (\(client == .daybook ? "confirmed" : "sent"))"
            )
            say(
                "| changes/s asked | written | lag p50 confirmed | p99 confirmed | p99 sent | max | client CPU | peak | kept up |"
            )
            say("|---|---|---|---|---|---|---|---|---|")
            var highestKept: Step?
            var lowestMissed: Step?
            var rate = startRate
            // Double while it keeps up, or halve until it does; a load that falls short of its
            // rate is judged at the rate it wrote.
            while rate >= 1000, rate <= maxRate {
                let step = try measure(client, rate: rate, live: live)
                if step.keptUp {
                    highestKept = step
                    if lowestMissed != nil || step.loadFellShort { break }
                    rate *= 2
                } else {
                    lowestMissed = step
                    if highestKept != nil { break }
                    rate /= 2
                }
            }
            if var low = highestKept?.writtenRate, var high = lowestMissed?.writtenRate,
                highestKept?.loadFellShort == false
            {
                for _ in 0..<refinements {
                    let middle = (low + high) / 2 / 1000 * 1000
                    guard middle > low, middle < high else { break }
                    let step = try measure(client, rate: middle, live: live)
                    if step.keptUp {
                        highestKept = step
                        low = step.writtenRate
                        if step.loadFellShort { break }
                    } else {
                        lowestMissed = step
                        high = step.writtenRate
                    }
                }
            }
            let knee =
                highestKept.map { "\($0.writtenRate.formatted()) changes/s kept up with" } ?? "no rate kept up with"
            let limit =
                highestKept?.loadFellShort == true
                ? " (pgbench's limit on this machine: the knee is at least there)"
                : lowestMissed.map { ", \($0.writtenRate.formatted()) changes/s not" } ?? ""
            say("knee of \(client.rawValue): \(knee)\(limit)")
        }
    }

    /// One step: a fresh slot and client, `stepSeconds` of load at `rate`, the lag sampled.
    private func measure(_ client: Client, rate: Int, live: LiveSource) throws -> Step {
        let slot = "bench_knee_\(client == .daybook ? "daybook" : "recv")_\(rate)"
        try environment.slots.create(slot, on: live.connectionString)
        defer { environment.slots.drop(slot) }
        let sinkName = "bench_knee_sink"
        let arguments: [String]
        let executable: String
        switch client {
        case .daybook:
            let sink = try environment.createSinkDatabase(sinkName, daybook: tools.daybook)
            try BenchmarkSchema.recordCapture(level: level, slot: slot, sink: sink)
            executable = tools.daybook
            arguments = [
                "run", "--database", live.connectionString, "--sink", sink, "--slot", slot, "--publication", "bench",
            ]
        case .pgRecvlogical:
            executable = tools.pgRecvlogical
            arguments = [
                "--dbname", live.connectionString, "--slot", slot, "--start", "--option", "proto_version=1",
                "--option", "publication_names=bench", "--option", "messages=true", "--file", "/dev/null",
                "--no-loop", "--status-interval", "1", "--fsync-interval", "1",
            ]
        }
        defer { if client == .daybook { environment.dropDatabase(sinkName) } }
        let log = "\(tools.logDirectory)/\(slot).log"
        let process = try MeasuredProcess.spawn(executable, arguments, logFile: log)
        let started = ContinuousClock.now
        var reaped = false
        defer {
            if !reaped {
                kill(process, SIGKILL)
                _ = try? MeasuredProcess.reap(process, started: started)
            }
        }
        try live.waitForActiveSlot(slot)
        let load = UpdateLoad(changesPerSecond: rate, transactionSize: transactionSize, seconds: stepSeconds)
        let loadLog = "\(tools.logDirectory)/\(slot)-pgbench.log"
        let loader = try load.start(tools, source: live.connectionString, logFile: loadLog)
        let loadStarted = ContinuousClock.now
        let lag = try SlotLag.sample(slot, on: live.connectionString, from: loadStarted, seconds: stepSeconds)
        let loadResult = try MeasuredProcess.reap(loader, started: loadStarted)
        guard loadResult.status == 0 else {
            throw BenchError("pgbench exited with \(loadResult.status); see \(loadLog)")
        }
        kill(process, SIGTERM)
        let measurement = try MeasuredProcess.reap(process, started: started)
        reaped = true
        let achieved =
            load.achievedChangesPerSecond(logFile: loadLog) ?? 0
        let step = Step(
            rate: rate,
            achieved: achieved,
            lag: lag,
            client: measurement,
            judgedLag: client == .daybook ? lag.confirmed : lag.sent,
            lagLimit: lagLimit
        )
        func p(_ fraction: Double, _ lags: [Double]) -> String {
            milliseconds(SlotLag.percentile(fraction, of: lags)) + " ms"
        }
        say(
            "| \(rate.formatted()) | \(Int(achieved).formatted()) | \(p(0.5, lag.confirmed)) | \(p(0.99, lag.confirmed)) "
                + "| \(p(0.99, lag.sent)) | \(milliseconds(lag.confirmed.max() ?? .nan)) ms "
                + "| \(Int(100 * measurement.cpu / measurement.wall)) % of a core | \(measurement.peakResidentBytes >> 20) MB "
                + "| \(step.keptUp ? "yes" : "no")\(step.loadFellShort ? " (load short)" : "") |"
        )
        return step
    }
}
