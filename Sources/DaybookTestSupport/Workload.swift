import Foundation
import PostgresReplication

/// Tables of every key shape the tests and the fault run need, audited by
/// ``IndependentCount``, and a random transaction over them.
public enum Workload {
    public static let schemaSQL = """
        CREATE SCHEMA app;
        CREATE TABLE app.accounts (id integer PRIMARY KEY, balance integer NOT NULL);
        CREATE TABLE app.pairs (a integer, b text, v integer, PRIMARY KEY (a, b));
        CREATE TABLE app.tags (name text PRIMARY KEY, n integer);
        CREATE TABLE app.docs (id uuid PRIMARY KEY, title text, body text);
        ALTER TABLE app.docs ALTER COLUMN body SET STORAGE EXTERNAL;
        CREATE TABLE app.nopk (a integer, b text);
        ALTER TABLE app.nopk REPLICA IDENTITY FULL;
        CREATE TABLE app.scratch (id integer PRIMARY KEY);
        """

    public static let keyColumns: [(String, [String])] = [
        ("app.accounts", ["id"]), ("app.pairs", ["a", "b"]), ("app.tags", ["name"]), ("app.docs", ["id"]),
        ("app.nopk", ["a", "b"]), ("app.scratch", ["id"]),
    ]

    /// Creates the tables and their audit triggers in the source, the sink schema, and the
    /// publication and slot.
    ///
    /// - Parameters:
    ///   - source: an open connection to the source database.
    ///   - environment: the variables `daybook` needs (DAYBOOK_DATABASE, DAYBOOK_SINK).
    ///   - valuesTables: tables to capture at `values`, with their row images audited too
    ///     (``ValueAudit``).
    public static func prepare(
        source: PostgresConnection,
        environment: [String: String],
        slot: String,
        valuesTables: [String] = []
    ) throws {
        try source.simpleQuery(IndependentCount.installSQL)
        try source.simpleQuery(schemaSQL)
        for (table, columns) in keyColumns {
            try source.simpleQuery(IndependentCount.auditSQL(table: table, keyColumns: columns))
        }
        if !valuesTables.isEmpty { try source.simpleQuery(ValueAudit.installSQL) }
        for (table, columns) in keyColumns where valuesTables.contains(table) {
            try source.simpleQuery(ValueAudit.triggerSQL(table: table, keyColumns: columns))
        }
        let migrate = try DaybookProcess.run(["migrate"], environment: environment)
        guard migrate.status == 0 else { throw SupportError("migrate failed: \(migrate.stderr)") }
        let setup = try DaybookProcess.run(["setup", "--slot", slot, "--schemas", "app"], environment: environment)
        guard setup.status == 0 else { throw SupportError("setup failed: \(setup.stderr)") }
        for table in valuesTables {
            let capture = try DaybookProcess.run(
                ["capture", "--slot", slot, table, "values"],
                environment: environment
            )
            guard capture.status == 0 else { throw SupportError("capture failed: \(capture.stderr)") }
        }
    }

    /// One transaction of 1,200 upserts of `app.docs`: captured at `values`, its events fill a
    /// checkpoint past the minimum for which Daybook writes them on a second sink connection,
    /// ahead of the checkpoint. Four groups of keys, so later ones update what earlier ones
    /// inserted. Deterministic for a seed.
    public static func bulkTransaction(_ connection: PostgresConnection, random: inout SeededRandom) throws {
        try connection.query(
            """
            INSERT INTO app.docs SELECT md5('bulk ' || $1 || ' ' || g)::uuid, 'bulk ' || g, NULL
              FROM generate_series(1, 1200) g
            ON CONFLICT (id) DO UPDATE SET title = excluded.title || ' again'
            """,
            [String(random.next(below: 4))]
        )
    }

    /// One random transaction over the tables (a tenth of them roll back). Deterministic for
    /// a seed.
    public static func randomTransaction(_ connection: PostgresConnection, random: inout SeededRandom) throws {
        try connection.simpleQuery("BEGIN")
        for _ in 0..<Int(random.next(below: 5) + 1) {
            let id = random.next(below: 200)
            switch random.next(below: 7) {
            case 0, 1:
                try connection.query(
                    "INSERT INTO app.accounts VALUES ($1, 0) ON CONFLICT (id) DO UPDATE SET balance = app.accounts.balance + 1",
                    [String(id)]
                )
            case 2:
                try connection.query("DELETE FROM app.accounts WHERE id = $1", [String(id)])
            case 3:
                try connection.query(
                    "INSERT INTO app.pairs VALUES ($1, $2, 1) ON CONFLICT (a, b) DO UPDATE SET v = app.pairs.v + 1",
                    [String(id % 20), "k\(id % 7)"]
                )
            case 4:
                try connection.query(
                    "INSERT INTO app.tags VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = app.tags.n + 1",
                    ["t\(id % 50)"]
                )
            case 5:
                try connection.query(
                    """
                    INSERT INTO app.docs VALUES (md5($1)::uuid, $2, NULL)
                    ON CONFLICT (id) DO UPDATE SET title = excluded.title
                    """,
                    [String(id % 30), "title \(random.next(below: 1000))"]
                )
            default:
                try connection.query(
                    "INSERT INTO app.nopk VALUES ($1, $2)",
                    [String(id), "r\(random.next(below: 1000))"]
                )
            }
        }
        try connection.simpleQuery(random.next(below: 10) == 0 ? "ROLLBACK" : "COMMIT")
    }
}

/// A small deterministic generator (SplitMix64), so a failing run can be replayed.
public struct SeededRandom: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func next(below bound: UInt64) -> UInt64 { next() % bound }
}
