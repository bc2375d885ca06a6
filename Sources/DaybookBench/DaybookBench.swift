import ArgumentParser
import DaybookCore
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `daybook-bench`: end-to-end benchmarks against real PostgreSQL servers, printing figures
/// (never asserting times). The micro-benchmarks of the decoder and the windowing engine are
/// in `Benchmarks/` (package-benchmark); `scripts/bench` runs both.
@main
struct DaybookBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daybook-bench",
        abstract: "Benchmark Daybook end to end: catch-up against pg_recvlogical, memory, live lag, two instances.",
        discussion: """
            By default it starts two throwaway PostgreSQL servers (source and sink) with \
            scripts/throwaway-postgres and removes them at the end. Every slot it creates is dropped again, \
            also on SIGINT or SIGTERM (a forgotten slot retains WAL forever). Run it from the repository \
            root after `swift build -c release`; `scripts/bench` does both.
            """,
        subcommands: [
            CatchUp.self, Memory.self, Close.self, Lag.self, Knee.self, Scale.self, LargeTransaction.self,
            AttributionCost.self,
            DigestScale.self, ForgetScale.self, All.self,
        ],
        defaultSubcommand: All.self
    )
}

/// Where the servers and programs are.
struct CommonOptions: ParsableArguments {
    @Option(help: "The daybook binary to measure (a release build).")
    var daybook: String = ".build/release/daybook"

    @Option(help: "PostgreSQL's bin folder, for pg_recvlogical and pgbench (default: pg_config --bindir).")
    var pgBindir: String?

    @Option(help: "Path of scripts/throwaway-postgres.")
    var script: String = "scripts/throwaway-postgres"

    @Option(help: "Folder for the throwaway servers and the logs.")
    var workDir: String = "/tmp"

    @Option(help: "An existing source server (connection string without dbname) instead of a throwaway one.")
    var source: String?

    @Option(help: "An existing sink server (connection string without dbname) instead of a throwaway one.")
    var sink: String?

    @Flag(help: "Allow --source/--sink: the benchmark creates and drops databases, publications and slots there.")
    var allowExistingServers = false

    /// Starts the servers, runs `body`, and tears everything down whatever happens,
    /// including on SIGINT and SIGTERM.
    func withEnvironment(movableSourceClock: Bool = false, _ body: (BenchEnvironment, Tools) throws -> Void) throws {
        let bindir = try pgBindir ?? Self.detectBindir()
        let logs = workDir + "/daybook-bench-logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let tools = Tools(
            daybook: daybook,
            pgRecvlogical: bindir + "/pg_recvlogical",
            pgbench: bindir + "/pgbench",
            psql: bindir + "/psql",
            logDirectory: logs
        )
        for program in [tools.daybook, tools.pgRecvlogical, tools.pgbench, tools.psql]
        where !FileManager.default.isExecutableFile(atPath: program) {
            throw BenchError(
                "\(program) is not there: build daybook with `swift build -c release`, install PostgreSQL 15"
            )
        }
        let environment = try BenchEnvironment(
            script: script,
            workDirectory: workDir,
            source: source,
            sink: sink,
            allowExisting: allowExistingServers,
            movableSourceClock: movableSourceClock
        )
        let signals = Self.onInterrupt {
            interrupted.store(true, ordering: .sequentiallyConsistent)
            FileHandle.standardError.write(
                Data("daybook-bench: interrupted; dropping its slots, databases and throwaway servers\n".utf8)
            )
            environment.tearDown()
            Glibc.exit(130)
        }
        defer {
            for source in signals { source.cancel() }
            environment.tearDown()
        }
        say("# daybook-bench on \(ProcessInfo.processInfo.activeProcessorCount) cores; logs in \(logs)")
        do {
            try body(environment, tools)
        } catch  where interrupted.load(ordering: .sequentiallyConsistent) {
            // The interrupt handler is dropping what this run stood on; it exits when done.
            while true { sleep(1) }
        }
    }

    /// Runs `handler` on SIGINT or SIGTERM instead of dying with slots left behind.
    private static func onInterrupt(_ handler: @escaping () -> Void) -> [DispatchSourceSignal] {
        var sources: [DispatchSourceSignal] = []
        for number: Int32 in [SIGINT, SIGTERM] {
            _ = Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
        return sources
    }

    private static func detectBindir() throws -> String {
        let candidates =
            (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().reversed() ?? []
        for version in candidates
        where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/pg_recvlogical") {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        throw BenchError("cannot find pg_recvlogical under /usr/lib/postgresql: pass --pg-bindir")
    }
}

struct CatchUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catchup",
        abstract: "Daybook against pg_recvlogical draining identical slots, pair by pair."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Changes per backlog.") var changes = 1_000_000
    @Option(help: "Pairs per backlog (alternating which runs first).") var runs = 5
    @Option(parsing: .upToNextOption, help: "Workloads: hot, distinct.") var workloads: [String] = ["hot", "distinct"]
    @Option(parsing: .upToNextOption, help: "Changes per source transaction.") var transactionSizes: [Int] = [
        10, 10_000,
    ]
    @Option(help: "Capture level of every table: keys, or values (each change kept with its row).") var level = "keys"
    @Option(
        parsing: .upToNextOption,
        help: "How Daybook reads: backlog (SQL decoding, the default), streaming (--no-backlog-mode)."
    )
    var modes: [String] = CatchUpBenchmark.Mode.allCases.map(\.rawValue)
    @Flag(
        help: "Each backlog twice: without, then with a daybook.actor message in every transaction (as daybook.act_as)."
    )
    var attribution = false
    @Flag(
        help: "At values: each backlog twice, without, then with three columns kept as keyed hashes (capture --hash)."
    )
    var hash = false
    @Option(
        help: ArgumentHelp(
            "Seconds between checkpoints while a backlog is written (0: none).",
            discussion: """
                Each checkpoint writes a running-transactions record, where a slot's restart position \
                can move, as a backlog written over hours has one every 15 s. Without, the backlog \
                is written in seconds and has few or none.
                """
        )
    )
    var checkpointEvery: Double = 0

    func validate() throws {
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every: seconds, 0 for none") }
        guard ["keys", "values"].contains(level) else { throw ValidationError("--level: keys or values") }
        if hash && level != "values" { throw ValidationError("--hash goes with --level values") }
        guard !modes.isEmpty, modes.allSatisfy({ CatchUpBenchmark.Mode(rawValue: $0) != nil }) else {
            throw ValidationError("--modes: backlog, streaming or both")
        }
    }

    func run() throws {
        try common.withEnvironment { environment, tools in try catchUp(environment, tools) }
    }

    func catchUp(_ environment: BenchEnvironment, _ tools: Tools) throws {
        let benchmark = CatchUpBenchmark(
            environment: environment,
            tools: tools,
            level: level,
            modes: modes.compactMap(CatchUpBenchmark.Mode.init(rawValue:))
        )
        var hashedBenchmark: CatchUpBenchmark?
        if hash {
            // A key file as `daybook capture --key-file` takes it, and three text columns.
            let path = "\(tools.logDirectory)/daybook-bench-values.key"
            let key = Array(String(repeating: "5a", count: 32).utf8)
            guard
                FileManager.default.createFile(
                    atPath: path,
                    contents: Data(key),
                    attributes: [.posixPermissions: 0o600]
                )
            else { throw BenchError("cannot write the key file \(path)") }
            var hashing = benchmark
            hashing.hashed = ["bench.orders": ["note"], "bench.users": ["name"], "bench.events": ["payload"]]
            hashing.keyFile = (path, ValueKey(key)!.id)
            hashedBenchmark = hashing
        }
        var index = 0
        for name in workloads {
            guard let workload = Workload(rawValue: name) else { throw ValidationError("unknown workload \(name)") }
            for size in transactionSizes {
                for attributed in attribution ? [false, true] : [false] {
                    index += 1
                    let backlog = try Backlog.make(
                        workload,
                        changes: changes,
                        transactionSize: size,
                        on: environment,
                        name: "bench_\(workload.rawValue)_\(size)\(attributed ? "_actors" : "")",
                        attributed: attributed,
                        checkpointEvery: checkpointEvery > 0 ? checkpointEvery : nil
                    )
                    _ = try benchmark.run(backlog, runs: runs)
                    if let hashedBenchmark { _ = try hashedBenchmark.run(backlog, runs: runs) }
                    environment.slots.drop(backlog.baseSlot)
                    environment.dropDatabase(backlog.database)
                }
            }
        }
    }
}

struct AttributionCost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribution-cost",
        abstract: "pgbench with and without the statement trigger of `capture --attribute`: tps and WAL per statement."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "pgbench scale.") var scale = 10
    @Option(help: "pgbench clients.") var clients = 4
    @Option(help: "Seconds per pgbench run.") var seconds = 20
    @Option(help: "Runs with and without the trigger (alternating).") var runs = 3

    func run() throws {
        try common.withEnvironment { environment, tools in
            try AttributionCostBenchmark(
                environment: environment,
                tools: tools,
                scale: scale,
                clients: clients,
                seconds: seconds,
                runs: runs
            ).run()
        }
    }
}

struct DigestScale: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "daybook digest of a day of millions of keys over hundreds of tables with months of history."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Keys changed on the day.") var keys = 10_000_000
    @Option(help: "Tables.") var tables = 200
    @Option(help: "Days of history before the day.") var days = 90
    @Option(help: "Runs of the digest.") var runs = 5

    func run() throws {
        try common.withEnvironment { environment, tools in
            try DigestBenchmark(
                environment: environment,
                tools: tools,
                keys: keys,
                tables: tables,
                days: days,
                runs: runs
            )
            .run()
        }
    }
}

struct ForgetScale: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "daybook forget of one key, and of one subject by value, in a sink of months of a values table."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Keys changed on each day.") var keys = 1_000_000
    @Option(help: "Closed days.") var days = 90
    @Option(help: "Runs of each forget.") var runs = 5

    func run() throws {
        try common.withEnvironment { environment, tools in
            try ForgetBenchmark(environment: environment, tools: tools, keys: keys, days: days, runs: runs).run()
        }
    }
}

struct Memory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak memory while catching up on millions of distinct keys in one day window."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Distinct keys (new rows) in the backlog.") var keys = 10_000_000

    func run() throws {
        try common.withEnvironment { environment, tools in try memory(environment, tools) }
    }

    func memory(_ environment: BenchEnvironment, _ tools: Tools) throws {
        let backlog = try Backlog.make(
            .inserts,
            changes: keys,
            transactionSize: 10_000,
            on: environment,
            name: "bench_memory"
        )
        _ = try CatchUpBenchmark(environment: environment, tools: tools).run(backlog, runs: 1)
        environment.slots.drop(backlog.baseSlot)
        environment.dropDatabase(backlog.database)
    }
}

struct Close: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Closing a day of millions of keys: the sink time of making it final.",
        discussion: """
            Drains a backlog of new keys into one day window, then moves the source server's clock a day \
            ahead (libfaketime) and commits one change, which closes the day; prints the closing \
            sink time of making the day final, from daybook's log.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Distinct keys (new rows) in the day.") var keys = 10_000_000
    @Option(help: "Capture level of the day's table: keys, or values (each change kept with its row).") var level =
        "keys"
    @Flag(
        help:
            "Then time daybook report (events, keys, top 10, tables) on the closed day without statistics, the JSON API and the dashboard, and the reports again analysed."
    ) var api = false

    func validate() throws {
        guard ["keys", "values"].contains(level) else { throw ValidationError("--level is keys or values") }
    }

    func run() throws {
        try common.withEnvironment(movableSourceClock: true) { environment, tools in try close(environment, tools) }
    }

    func close(_ environment: BenchEnvironment, _ tools: Tools) throws {
        try CloseBenchmark(environment: environment, tools: tools).run(keys: keys, level: level, api: api)
    }
}

struct Lag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "A live service under steady load: the slot's lag distribution.",
        discussion: """
            With --closing-keys N (default 1,000,000), the service first drains N new keys into one day; \
            ten seconds into the load the source server's clock moves a day ahead (libfaketime), so that \
            day closes while the load goes on. --closing-keys 0 measures the load alone.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Changes per second (pgbench, ten per transaction).") var rate = 20_000
    @Option(help: "Seconds of load.") var seconds = 60
    @Option(help: "daybook run --checkpoint-every.") var checkpointEvery = "250ms"
    @Option(help: "Keys of the day that closes during the load (0: no day closes).") var closingKeys = 1_000_000

    func run() throws {
        try common.withEnvironment(movableSourceClock: closingKeys > 0) { environment, tools in
            try lag(environment, tools)
        }
    }

    func lag(_ environment: BenchEnvironment, _ tools: Tools) throws {
        try LagBenchmark(environment: environment, tools: tools).run(
            changesPerSecond: rate,
            seconds: seconds,
            checkpointEvery: checkpointEvery,
            closingKeys: closingKeys
        )
    }
}

struct Knee: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knee",
        abstract: "The live limit: the highest steady rate one slot carries with its client's lag p99 under a second.",
        discussion: """
            For each client, a fresh slot per step under pgbench at one rate (updates of prefilled keys): \
            the rate doubles from --start-rate while the client keeps up, then --refinements halvings between \
            the last rate kept up with and the first one not. Daybook is judged by the slot's confirmed \
            position (what the sink committed); pg_recvlogical by what the walsender sent it, since it \
            confirms only once per --status-interval (whole seconds). pg_recvlogical's stream is the same at \
            every level, so --level changes only Daybook's capture.
            """
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Daybook's capture level of every table: keys, or values.") var level = "keys"
    @Option(parsing: .upToNextOption, help: "Clients to measure: daybook, pg_recvlogical.") var clients: [String] = [
        "daybook", "pg_recvlogical",
    ]
    @Option(help: "Changes per second of the first step.") var startRate = 10_000
    @Option(help: "Changes per second no step goes beyond.") var maxRate = 1_280_000
    @Option(help: "Seconds of load per step (the first 5 are not sampled).") var stepSeconds = 30
    @Option(help: "Halvings of the interval around the knee.") var refinements = 2
    @Option(help: "Changes per source transaction.") var transactionSize = 10

    func validate() throws {
        guard ["keys", "values"].contains(level) else { throw ValidationError("--level is keys or values") }
        for client in clients where KneeBenchmark.Client(rawValue: client) == nil {
            throw ValidationError("--clients are daybook and pg_recvlogical, not \(client)")
        }
        guard stepSeconds > 10 else { throw ValidationError("--step-seconds must be more than 10") }
        guard (1...100_000).contains(transactionSize) else {
            throw ValidationError("--transaction-size is between 1 and 100,000")
        }
    }

    func run() throws {
        try common.withEnvironment { environment, tools in
            var benchmark = KneeBenchmark(environment: environment, tools: tools)
            benchmark.level = level
            benchmark.stepSeconds = stepSeconds
            benchmark.transactionSize = transactionSize
            try benchmark.run(
                clients: clients.compactMap(KneeBenchmark.Client.init(rawValue:)),
                startRate: startRate,
                maxRate: maxRate,
                refinements: refinements
            )
        }
    }
}

struct Scale: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "One instance against two, each with its own publication and slot."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Changes in the backlog.") var changes = 1_000_000
    @Option(help: "Runs of each.") var runs = 3

    func run() throws {
        try common.withEnvironment { environment, tools in try scale(environment, tools) }
    }

    func scale(_ environment: BenchEnvironment, _ tools: Tools) throws {
        try ScaleBenchmark(environment: environment, tools: tools).run(
            changes: changes,
            transactionSize: 10,
            runs: runs
        )
    }
}

struct LargeTransaction: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "large-transaction",
        abstract: "One transaction of millions of rows, streamed while it runs and decoded whole after its commit."
    )

    @OptionGroup var common: CommonOptions
    @Option(help: "Rows the transaction inserts.") var rows = 5_000_000

    func run() throws {
        try common.withEnvironment { environment, tools in try largeTransaction(environment, tools) }
    }

    func largeTransaction(_ environment: BenchEnvironment, _ tools: Tools) throws {
        try LargeTransactionBenchmark(environment: environment, tools: tools).run(rows: rows)
    }
}

struct All: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Every benchmark, with its defaults.")

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.withEnvironment { environment, tools in
            try CatchUp.parse([]).catchUp(environment, tools)
            try Memory.parse([]).memory(environment, tools)
            try Lag.parse(["--closing-keys", "0"]).lag(environment, tools)
            try Scale.parse([]).scale(environment, tools)
            try LargeTransaction.parse([]).largeTransaction(environment, tools)
            try DigestBenchmark(environment: environment, tools: tools).run()
            try AttributionCostBenchmark(environment: environment, tools: tools).run()
        }
        // A source whose clock moves: only these, so the others run on an untouched server.
        try common.withEnvironment(movableSourceClock: true) { environment, tools in
            try Close.parse([]).close(environment, tools)
            try Lag.parse([]).lag(environment, tools)
        }
    }
}

/// Set by SIGINT or SIGTERM, while the handler tears everything down.
private let interrupted = Atomic<Bool>(false)

/// Prints a line of figures at once, also when the output goes to a file.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
