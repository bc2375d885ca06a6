import PostgresReplication

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

    var label: String {
        "\(workload.rawValue), \(transactionSize)-change transactions\(attributed ? ", each with an actor message" : "")"
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
        attributed: Bool = false
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
        try connection.query(
            "CALL bench.generate($1, $2, $3, $4, $5, $6)",
            [
                workload.rawValue, String(changes), String(transactionSize), String(prefilled),
                String(max(prefilled, 1)),
                attributed ? "true" : "false",
            ]
        )
        let seconds = (ContinuousClock.now - started).seconds
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
            attributed: attributed
        )
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
