import Foundation
import PostgresReplication

/// Daybook against pg_recvlogical on identical slots: both drain the same backlog up to the
/// same LSN, in alternating order, run after run.
struct CatchUpBenchmark {
    /// How Daybook reads the backlog.
    enum Mode: String, CaseIterable {
        /// Through SQL decoding (`pg_logical_slot_peek_binary_changes` over COPY), the default.
        case backlog
        /// Through the replication stream only (`--no-backlog-mode`).
        case streaming
    }

    /// One client's run: its own accounting and what the source server spent meanwhile, and
    /// the sink server (Daybook's writes; nothing for the other clients).
    struct Run {
        var client: Measurement
        var server: ServerUsage
        var sink: ServerUsage
    }

    /// One run of pg_recvlogical, of the server's SQL decoding alone and of Daybook in each mode
    /// on the same backlog.
    struct Round {
        var receiver: Run
        /// The floor: the server decoding the whole backlog in one peek, its output to /dev/null.
        var serverDecoding: Run?
        var daybook: [Mode: Run]

        func wallRatio(_ mode: Mode) -> Double { (daybook[mode]?.client.wall ?? .nan) / receiver.client.wall }
        func cpuRatio(_ mode: Mode) -> Double { (daybook[mode]?.client.cpu ?? .nan) / receiver.client.cpu }
        /// Daybook's wall time over the server's own decoding of the same backlog (issue 27's
        /// first target: at most 1.15 at `keys`).
        func decodingRatio(_ mode: Mode) -> Double {
            (daybook[mode]?.client.wall ?? .nan) / (serverDecoding?.client.wall ?? .nan)
        }
    }

    /// Who drains a backlog in a round.
    private enum Client {
        case receiver, serverDecoding
        case daybook(Mode)
    }

    let environment: BenchEnvironment
    let tools: Tools
    /// The capture level of every table: `keys` (the default) or `values` (each change kept
    /// with its row, as pg_recvlogical receives it).
    var level = "keys"
    /// The ways Daybook reads, each measured against the same pg_recvlogical run.
    var modes: [Mode] = Mode.allCases
    /// At `values`: columns kept as keyed hashes (`capture --hash`), per table, and the key's
    /// file and id; empty: none.
    var hashed: [String: [String]] = [:]
    var keyFile: (path: String, id: String)?

    /// Runs `runs` rounds on `backlog` (rotating which client goes first) and prints one line
    /// per client and run, then the medians.
    func run(_ backlog: Backlog, runs: Int) throws -> [Round] {
        say(
            "\n## \(backlog.label): \(backlog.changes.formatted()) changes (generated in \(format(backlog.generationSeconds)) s), "
                + "every table at \(level)"
                + (hashed.isEmpty
                    ? ""
                    : ", hashing \(hashed.sorted { $0.key < $1.key }.map { "\($0.key).\($0.value.joined(separator: ","))" }.joined(separator: " "))")
        )
        say(
            "run | client | wall s | cpu s | changes/s | peak MB | server cpu s | server temp MB | sink cpu s | wall ratio "
                + "| cpu ratio | wall / server decoding"
        )
        var rounds: [Round] = []
        let clients: [Client] = [.receiver, .serverDecoding] + modes.map { .daybook($0) }
        for run in 1...runs {
            var receiver: Run?
            var serverDecoding: Run?
            var daybook: [Mode: Run] = [:]
            let first = (run - 1) % clients.count
            for client in clients[first...] + clients[..<first] {
                switch client {
                case .receiver: receiver = try measured(backlog) { (try runReceiver(backlog, run: run), .zero) }
                case .serverDecoding:
                    serverDecoding = try measured(backlog) { (try runServerDecoding(backlog, run: run), .zero) }
                case .daybook(let mode):
                    daybook[mode] = try measured(backlog) { try runDaybook(backlog, run: run, mode: mode) }
                }
            }
            guard let receiver else { continue }
            let round = Round(receiver: receiver, serverDecoding: serverDecoding, daybook: daybook)
            rounds.append(round)
            func line(_ name: String, _ measured: Run, ratios: String) {
                let m = measured.client
                say(
                    "\(run) | \(name) | \(format(m.wall)) | \(format(m.cpu)) | \(Int(Double(backlog.changes) / m.wall).formatted()) | "
                        + "\(m.peakResidentBytes >> 20) | \(format(measured.server.cpuSeconds)) | \(measured.server.tempBytes >> 20) | "
                        + "\(format(measured.sink.cpuSeconds)) | \(ratios)"
                )
            }
            line("pg_recvlogical", receiver, ratios: "| |")
            if let serverDecoding { line("server SQL decoding", serverDecoding, ratios: "| |") }
            for mode in modes {
                guard let measured = daybook[mode] else { continue }
                line(
                    "daybook \(mode.rawValue)",
                    measured,
                    ratios: "\(format(round.wallRatio(mode))) | \(format(round.cpuRatio(mode))) | "
                        + format(round.decodingRatio(mode))
                )
            }
        }
        let perMillion = 1e6 / Double(backlog.changes)
        say(
            "pg_recvlogical: median wall \(format(median(rounds.map(\.receiver.client.wall)))) s, CPU per million changes "
                + "\(format(median(rounds.map(\.receiver.client.cpu)) * perMillion)) s, server CPU "
                + "\(format(median(rounds.map(\.receiver.server.cpuSeconds)))) s"
        )
        let decodings = rounds.compactMap(\.serverDecoding)
        say(
            "server SQL decoding (one peek of the whole backlog): median wall \(format(median(decodings.map(\.client.wall)))) s, "
                + "server CPU \(format(median(decodings.map(\.server.cpuSeconds)))) s "
                + "(\(format(median(decodings.map(\.server.cpuSeconds)) * perMillion)) s per million changes), server temp files "
                + "\(Int(median(decodings.map { Double($0.server.tempBytes) })) >> 20) MB"
        )
        for mode in modes {
            let runs = rounds.compactMap { $0.daybook[mode] }
            say(
                "daybook \(mode.rawValue): median wall ratio \(format(median(rounds.map { $0.wallRatio(mode) }))) "
                    + "(to the server's SQL decoding \(format(median(rounds.map { $0.decodingRatio(mode) })))), "
                    + "median CPU ratio \(format(median(rounds.map { $0.cpuRatio(mode) }))); median wall "
                    + "\(format(median(runs.map(\.client.wall)))) s, CPU per million changes \(format(median(runs.map(\.client.cpu)) * perMillion)) s, "
                    + "server CPU \(format(median(runs.map(\.server.cpuSeconds)))) s, sink server CPU "
                    + "\(format(median(runs.map(\.sink.cpuSeconds)))) s, server temp files "
                    + "\(Int(median(runs.map { Double($0.server.tempBytes) })) >> 20) MB, peak \(runs.map(\.client.peakResidentBytes).max().map { $0 >> 20 } ?? 0) MB"
            )
        }
        return rounds
    }

    /// Runs `body` and reads the source server's usage around it; the server reaps the
    /// client's backends a moment after the client exits, so the second reading waits for that.
    private func measured(_ backlog: Backlog, _ body: () throws -> (Measurement, sink: ServerUsage)) throws -> Run {
        let before = try ServerUsage.read(backlog.connectionString)
        let (client, sink) = try body()
        Thread.sleep(forTimeInterval: 0.5)
        return Run(client: client, server: try ServerUsage.read(backlog.connectionString) - before, sink: sink)
    }

    private func runReceiver(_ backlog: Backlog, run: Int) throws -> Measurement {
        let slot = "\(backlog.database)_recv_\(run)"
        try environment.slots.create(slot, on: backlog.connectionString, copying: backlog.baseSlot)
        defer { environment.slots.drop(slot) }
        let measurement = try MeasuredProcess.run(
            tools.pgRecvlogical,
            [
                "--dbname", backlog.connectionString, "--slot", slot, "--start", "--endpos", backlog.endLSN,
                "--option", "proto_version=1", "--option", "publication_names=\(backlog.publication)",
                "--option", "messages=true", "--file", "/dev/null", "--no-loop",
            ]
        )
        guard measurement.status == 0 else { throw BenchError("pg_recvlogical exited with \(measurement.status)") }
        return measurement
    }

    /// The server's own decoding of the backlog through SQL, as backlog mode reads it but in one
    /// statement and with nothing done with the output: psql copies it to /dev/null, on a copy
    /// of the slot. The floor no client reading through SQL can go below.
    private func runServerDecoding(_ backlog: Backlog, run: Int) throws -> Measurement {
        let slot = "\(backlog.database)_sql_\(run)"
        try environment.slots.create(slot, on: backlog.connectionString, copying: backlog.baseSlot)
        defer { environment.slots.drop(slot) }
        // psql takes no parameters in COPY: the names are the benchmark's own identifiers.
        let statement = """
            COPY (SELECT lsn, data FROM pg_catalog.pg_logical_slot_peek_binary_changes('\(slot)', '\(backlog.endLSN)', NULL,
                'proto_version', '1', 'publication_names', '\(backlog.publication)', 'messages', 'true'))
              TO STDOUT (FORMAT binary)
            """
        let measurement = try MeasuredProcess.run(
            tools.psql,
            [
                "--no-psqlrc", "--quiet", "--dbname", backlog.connectionString, "--command", statement, "--output",
                "/dev/null",
            ]
        )
        guard measurement.status == 0 else {
            throw BenchError("psql's COPY of the SQL decoding exited with \(measurement.status)")
        }
        return measurement
    }

    /// Daybook's run, and what the sink server spent while it ran (the sink's creation and
    /// the checks after it not counted).
    private func runDaybook(_ backlog: Backlog, run: Int, mode: Mode) throws -> (Measurement, sink: ServerUsage) {
        let slot = "\(backlog.database)_\(mode.rawValue)_\(run)"
        try environment.slots.create(slot, on: backlog.connectionString, copying: backlog.baseSlot)
        defer { environment.slots.drop(slot) }
        let sinkName = "\(backlog.database)_sink_\(run)"
        let sink = try environment.createSinkDatabase(sinkName, daybook: tools.daybook)
        defer { environment.dropDatabase(sinkName) }
        try BenchmarkSchema.recordCapture(
            level: level,
            slot: slot,
            sink: sink,
            hashed: hashed,
            keyFile: keyFile
        )
        let log = "\(tools.logDirectory)/\(slot).log"
        let sinkBefore = try ServerUsage.read(sink)
        let measurement = try MeasuredProcess.run(
            tools.daybook,
            [
                "run", "--database", backlog.connectionString, "--sink", sink, "--slot", slot,
                "--publication", backlog.publication, "--until-lsn", backlog.endLSN,
            ] + (mode == .streaming ? ["--no-backlog-mode"] : []) + Self.extraRunArguments,
            logFile: log
        )
        guard measurement.status == 0 else {
            throw BenchError("daybook run exited with \(measurement.status); see \(log)")
        }
        // The sink's backends exit a moment after the client.
        Thread.sleep(forTimeInterval: 0.5)
        let sinkUsage = try ServerUsage.read(sink) - sinkBefore
        try verify(sink: sink, slot: slot, changes: backlog.changes)
        try verifyEvents(sink: sink, slot: slot, changes: backlog.changes)
        return (measurement, sinkUsage)
    }

    /// At `values`, also every change's event.
    private func verifyEvents(sink: String, slot: String, changes: Int) throws {
        guard level == "values" else { return }
        let events =
            try PostgresConnection(ConnectionString(sink)).query(
                "SELECT count(*) FROM daybook.value_events WHERE slot_name = $1",
                [slot]
            ).scalar.flatMap { Int($0) } ?? -1
        guard events == changes else { throw BenchError("the sink holds \(events) events for \(slot), not \(changes)") }
    }

    /// Checks that the sink holds every change: a fast daybook that lost data is no result.
    private func verify(sink: String, slot: String, changes: Int) throws {
        let connection = try PostgresConnection(ConnectionString(sink))
        let counted =
            try connection.query(
                "SELECT coalesce(sum(inserts + updates + deletes + truncates), 0) FROM daybook.table_windows WHERE slot_name = $1",
                [slot]
            ).scalar.flatMap { Int($0) } ?? -1
        guard counted == changes else {
            throw BenchError("the sink holds \(counted) changes for \(slot), not \(changes)")
        }
    }
}

/// The programs a benchmark runs.
struct Tools {
    var daybook: String
    var pgRecvlogical: String
    var pgbench: String
    var psql: String
    var logDirectory: String
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double) -> String { String(format: value < 10 ? "%.2f" : "%.1f", value) }

extension CatchUpBenchmark {
    /// Arguments added to every `daybook run` from `DAYBOOK_BENCH_RUN_ARGUMENTS` (split at
    /// spaces), for experiments such as `--log-level debug --backlog-chunk 64`.
    static var extraRunArguments: [String] {
        (ProcessInfo.processInfo.environment["DAYBOOK_BENCH_RUN_ARGUMENTS"] ?? "").split(separator: " ").map(
            String.init
        )
    }
}
