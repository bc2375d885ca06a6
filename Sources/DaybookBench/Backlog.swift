import Foundation
import PostgresReplication
import Synchronization

/// What the generated changes do to keys.
enum Workload: String, CaseIterable, Sendable {
    /// Inserts, updates concentrated on 100,000 hot keys, deletes.
    case hot
    /// Every change touches a key no other change touches.
    case distinct
    /// New keys only, written set-wise: for very large backlogs.
    case inserts

    /// Prefilled keys per table, for a backlog of `changes`.
    func prefilled(for changes: Int) -> Int {
        switch self {
        case .hot: 25_000
        case .distinct: changes / 8
        case .inserts: 0
        }
    }
}

/// A backlog of changes waiting in a slot, in a database of its own: the slot (`base`) was
/// created after the prefill and before the changes, so copies of it all start at the same
/// point and end at `endLSN`.
struct Backlog {
    let workload: Workload
    let changes: Int
    let transactionSize: Int
    let database: String
    let connectionString: String
    let publication: String
    let baseSlot: String
    let endLSN: String
    let generationSeconds: Double
    /// Whether every transaction carries a `daybook.actor` message (as after `daybook.act_as`).
    var attributed = false
    /// Checkpoints written while the changes were (each with a running-transactions record).
    var checkpoints = 0

    var label: String {
        "\(workload.rawValue), \(transactionSize)-change transactions\(attributed ? ", each with an actor message" : "")"
            + (checkpoints > 0 ? ", \(checkpoints) checkpoints while written" : "")
    }

    /// Creates the database, tables, prefill, publication and base slot, then generates the
    /// changes. Every slot goes through `slots`, which drops it again whatever happens.
    static func make(
        _ workload: Workload,
        changes: Int,
        transactionSize: Int,
        on environment: BenchEnvironment,
        name: String,
        publications: [String: [String]] = ["bench": BenchmarkSchema.tables],
        attributed: Bool = false,
        checkpointEvery: Double? = nil
    ) throws -> Backlog {
        let connectionString = try environment.createSourceDatabase(name)
        let connection = try PostgresConnection(ConnectionString(connectionString))
        try connection.simpleQuery(BenchmarkSchema.create)
        let prefilled = workload.prefilled(for: changes)
        if prefilled > 0 { try connection.simpleQuery("CALL bench.prefill(\(prefilled))") }
        for (publication, tables) in publications.sorted(by: { $0.key < $1.key }) {
            try connection.simpleQuery("CREATE PUBLICATION \(publication) FOR TABLE \(tables.joined(separator: ", "))")
        }
        let baseSlot = "\(name)_base"
        try environment.slots.create(baseSlot, on: connectionString)
        let started = ContinuousClock.now
        let checkpointer = checkpointEvery.map { Checkpointer(connectionString, every: $0) }
        defer { checkpointer?.stop() }
        try connection.query(
            "CALL bench.generate($1, $2, $3, $4, $5, $6)",
            [
                workload.rawValue, String(changes), String(transactionSize), String(prefilled),
                String(max(prefilled, 1)),
                attributed ? "true" : "false",
            ]
        )
        let seconds = (ContinuousClock.now - started).seconds
        let checkpoints = checkpointer?.stop() ?? 0
        let end = try connection.query("SELECT pg_current_wal_insert_lsn()::text").scalar ?? "0/0"
        // Settle what the server does after a burst (hint bits, statistics), so runs start alike.
        try connection.simpleQuery("VACUUM ANALYZE")
        return Backlog(
            workload: workload,
            changes: changes,
            transactionSize: transactionSize,
            database: name,
            connectionString: connectionString,
            publication: publications.keys.sorted().joined(separator: ","),
            baseSlot: baseSlot,
            endLSN: end,
            generationSeconds: seconds,
            attributed: attributed,
            checkpoints: checkpoints
        )
    }
}

/// Runs `CHECKPOINT` every few seconds on a connection and thread of its own while a backlog
/// is written: the running-transactions record each one writes is where a slot's restart
/// position can move, as in a backlog written over hours.
private final class Checkpointer: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let count = Atomic<Int>(0)
    private let finished = Atomic<Bool>(false)

    init(_ connectionString: String, every seconds: Double) {
        let string = ConnectionString(connectionString)
        let thread = Thread { [self] in
            defer { finished.store(true, ordering: .releasing) }
            guard let connection = try? PostgresConnection(string) else { return }
            while !stopped.load(ordering: .acquiring) {
                Thread.sleep(forTimeInterval: seconds)
                if stopped.load(ordering: .acquiring) { break }
                guard (try? connection.simpleQuery("CHECKPOINT")) != nil else { break }
                count.add(1, ordering: .relaxed)
            }
        }
        thread.start()
    }

    /// Stops after the checkpoint running, if any; returns how many were written.
    @discardableResult
    func stop() -> Int {
        stopped.store(true, ordering: .releasing)
        while !finished.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.01) }
        return count.load(ordering: .relaxed)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
