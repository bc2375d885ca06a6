import ArgumentParser
import DaybookTestSupport
import Foundation
import PostgresReplication

/// Attacks a running Daybook and checks that nothing was lost or doubled.
@main
struct FaultRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daybook-fault-run",
        abstract:
            "Inject faults into a running Daybook under load, then compare its results with an independent count.",
        discussion: """
            Starts two throwaway PostgreSQL servers (source and sink) with scripts/throwaway-postgres, runs \
            concurrent writers over tables with integer, composite, text, uuid and no primary keys, and \
            `daybook run` (2-second windows) reading the source and writing the sink. Until --duration \
            passes it injects, in turn and at random moments: SIGKILL of daybook, an immediate shutdown and \
            restart of the source PostgreSQL, the sink server stopped for 1-3 seconds, and pg_terminate_backend \
            on the walsender. A daybook that exits on its own (for example because the sink was down when it \
            started) is restarted, as a service manager would. Then heartbeats close every window and the \
            results are compared, table by table, window by window and key by key, with audit triggers plus \
            pg_xact_commit_timestamp; for the tables captured at values, event by event with their row images. Prints one line per fault kind and `changes: N, mismatches: M`; exits \
            non-zero on any mismatch. Run it from the repository root after `swift build`.
            """
    )

    @Option(help: "Seconds of load and faults.")
    var duration: Int = 60

    @Option(help: "Seed for the workload and the fault schedule (default: random; printed for replay).")
    var seed: UInt64?

    @Option(help: "Concurrent writers.")
    var writers: Int = 2

    @Option(help: "Path of scripts/throwaway-postgres.")
    var script: String = "scripts/throwaway-postgres"

    @Option(help: "Folder for the throwaway servers (readable by the postgres user).")
    var workDir: String = "/tmp"

    @Flag(help: "Soak: steady load and no faults; sample daybook's resident memory and the slot's retained WAL.")
    var soak = false

    @Option(help: "With --soak, seconds between samples.")
    var sampleEvery: Int = 5

    /// The tables captured at `values` during the run.
    static let valuesTables = ["app.accounts", "app.docs"]

    enum Fault: String, CaseIterable {
        case kill = "daybook killed (SIGKILL)"
        case sourceCrash = "source postgres crashed (immediate shutdown) and restarted"
        case sinkOutage = "sink postgres unavailable for 1-3 s"
        case walsender = "walsender terminated (pg_terminate_backend)"
    }

    func run() throws {
        let seed = seed ?? UInt64.random(in: 0...UInt64.max)
        var random = SeededRandom(seed: seed)
        say("\(soak ? "soak" : "fault") run: \(duration)s, seed \(seed), \(writers) writers, windows 2s, grace 1s")
        let source = try Cluster(
            name: "source",
            script: script,
            workDirectory: workDir,
            extraConfiguration: "synchronous_commit = on\nwal_sender_timeout = 20s"
        )
        let sink = try Cluster(
            name: "sink",
            script: script,
            workDirectory: workDir,
            extraConfiguration: "synchronous_commit = on"
        )
        defer {
            source.remove()
            sink.remove()
        }
        let admin = try PostgresConnection(ConnectionString(source.connectionString))
        say("source and sink: PostgreSQL \(try admin.query("SHOW server_version").scalar ?? "?")")
        try admin.simpleQuery("CREATE DATABASE faults")
        let sourceDB = source.database("faults")
        let environment = ["DAYBOOK_DATABASE": sourceDB, "DAYBOOK_SINK": sink.database("postgres")]
        // Two tables are captured at values: their events are compared too, row image by row image.
        try Workload.prepare(
            source: try PostgresConnection(ConnectionString(sourceDB)),
            environment: environment,
            slot: "faults",
            valuesTables: Self.valuesTables
        )
        let supervisor = try Supervisor(
            arguments: ["run", "--slot", "faults", "--window", "2s", "--grace", "1s", "--checkpoint-every", "200ms"],
            environment: environment
        )
        let load = Writers(count: writers, connectionString: sourceDB, seed: seed)

        var injected: [Fault: Int] = [:]
        var order: [Fault] = []
        var sampler = Sampler()
        let deadline = Date().addingTimeInterval(Double(duration))
        let sampling = try PostgresConnection(ConnectionString(sourceDB))
        while soak, Date() < deadline {
            Thread.sleep(forTimeInterval: Double(sampleEvery))
            if let sample = sampler.sample(pid: supervisor.pid, source: sampling, slot: "faults") {
                say(
                    String(
                        format: "t=%5.0fs  daybook rss %6.1f MB  slot retains %7.1f MB of WAL",
                        sample.seconds,
                        Double(sample.residentKiB) / 1024,
                        Double(sample.retainedBytes) / 1_048_576
                    )
                )
            }
        }
        while !soak, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.4 + Double(random.next(below: 1200)) / 1000)
            supervisor.restartIfExited()
            if order.isEmpty { order = Fault.allCases.shuffled(using: &random) }
            let fault = order.removeLast()
            try inject(fault, source: source, sink: sink, supervisor: supervisor, random: &random)
            injected[fault, default: 0] += 1
        }
        load.stop()
        supervisor.restartIfExited()

        let sourceConnection = try PostgresConnection(ConnectionString(sourceDB))
        let sinkConnection = try PostgresConnection(ConnectionString(sink.database("postgres")))
        let closeBy = Date().addingTimeInterval(120)
        while try IndependentCount.unclosedWindows(source: sourceConnection, sink: sinkConnection, windowSeconds: 2) > 0
        {
            guard Date() < closeBy else {
                throw SupportError("windows did not close within 2 minutes:\n\(supervisor.lastLog)")
            }
            supervisor.restartIfExited()
            _ = try DaybookProcess.run(["heartbeat", "--quiet"], environment: environment)
            Thread.sleep(forTimeInterval: 0.5)
        }
        supervisor.stop()

        let mismatches =
            try IndependentCount.tableMismatches(source: sourceConnection, sink: sinkConnection, windowSeconds: 2)
            + IndependentCount.keyMismatches(source: sourceConnection, sink: sinkConnection, windowSeconds: 2)
            + ValueAudit.mismatches(source: sourceConnection, sink: sinkConnection)
        let late = try sinkConnection.query("SELECT count(*) FROM daybook.late_changes").scalar ?? "?"
        var failed = !mismatches.isEmpty
        if soak {
            let peakWAL = sampler.samples.map(\.retainedBytes).max() ?? 0
            let peakRSS = sampler.samples.map(\.residentKiB).max() ?? 0
            say(
                String(
                    format: "peak rss %.1f MB, peak retained WAL %.1f MB",
                    Double(peakRSS) / 1024,
                    Double(peakWAL) / 1_048_576
                )
            )
            if let trend = sampler.residentTrend {
                say(
                    String(
                        format: "rss, first quarter %.1f MB, last quarter %.1f MB",
                        trend.early / 1024,
                        trend.late / 1024
                    )
                )
                // Flat: the last quarter within 25% (and 20 MB) of the first, after warm-up.
                if trend.late > trend.early * 1.25 && trend.late - trend.early > 20 * 1024 {
                    say("memory is not flat")
                    failed = true
                }
            }
            if peakWAL > 256 * 1_048_576 {
                say("the slot retained more than 256 MB of WAL")
                failed = true
            }
        } else {
            for fault in Fault.allCases { say("\(fault.rawValue): \(injected[fault, default: 0])") }
        }
        say("daybook exited on its own and was restarted: \(supervisor.restarts)")
        say("sessions that read a backlog through SQL decoding (backlog mode): \(supervisor.backlogReads)")
        say("sessions that wrote value events ahead on a second sink connection: \(supervisor.eventsAheadSessions)")
        say("transactions committed by the writers: \(load.transactions); late changes: \(late)")
        for line in mismatches.prefix(20) { say("  \(line)") }
        say(
            "keys captured at values (\(Self.valuesTables.joined(separator: ", "))): \(try ValueAudit.keyCount(sourceConnection))"
        )
        say("changes: \(try IndependentCount.changeCount(sourceConnection)), mismatches: \(mismatches.count)")
        if failed { throw ExitCode(1) }
    }

    private func inject(
        _ fault: Fault,
        source: Cluster,
        sink: Cluster,
        supervisor: Supervisor,
        random: inout SeededRandom
    ) throws {
        switch fault {
        case .kill:
            supervisor.kill()
        case .sourceCrash:
            try source.crash()
            try source.resume()
        case .sinkOutage:
            try sink.crash()
            Thread.sleep(forTimeInterval: 1 + Double(random.next(below: 2000)) / 1000)
            try sink.resume()
        case .walsender:
            let admin = try PostgresConnection(ConnectionString(source.connectionString))
            try admin.simpleQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_replication")
        }
    }
}

extension Array {
    fileprivate func shuffled(using random: inout SeededRandom) -> [Element] {
        var copy = self
        for index in copy.indices.reversed() where index > 0 {
            copy.swapAt(index, Int(random.next(below: UInt64(index + 1))))
        }
        return copy
    }
}

/// Prints a line at once (stdout is not line-buffered when piped, and a long run should
/// show its progress).
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
