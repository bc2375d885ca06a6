import Foundation
import PostgresReplication

/// Tables of every key shape the tests need, audited by ``IndependentCount``.
enum Workload {
    static let schemaSQL = """
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

    static let keyColumns: [(String, [String])] = [
        ("app.accounts", ["id"]), ("app.pairs", ["a", "b"]), ("app.tags", ["name"]), ("app.docs", ["id"]),
        ("app.nopk", ["a", "b"]), ("app.scratch", ["id"]),
    ]

    /// Creates the tables, the audit triggers, Daybook's sink schema, publication and slot.
    static func prepare(_ database: TestDatabase) throws {
        try database.execute(IndependentCount.installSQL)
        try database.execute(schemaSQL)
        for (table, columns) in keyColumns {
            try database.execute(IndependentCount.auditSQL(table: table, keyColumns: columns))
        }
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let migrate = try DaybookProcess.run(["migrate"], environment: environment)
        guard migrate.status == 0 else { throw WorkloadError(message: "migrate failed: \(migrate.stderr)") }
        let setup = try DaybookProcess.run(
            ["setup", "--slot", database.name, "--schemas", "app"], environment: environment)
        guard setup.status == 0 else { throw WorkloadError(message: "setup failed: \(setup.stderr)") }
    }

    /// The arguments of a `daybook run` with short windows for this database.
    static func runArguments(_ database: TestDatabase, extra: [String] = []) -> [String] {
        ["run", "--slot", database.name, "--window", "2s", "--grace", "1s", "--checkpoint-every", "200ms",
         "--log-level", "debug"] + extra
    }

    /// One random transaction over the tables, for load tests. Deterministic for a seed.
    static func randomTransaction(_ connection: PostgresConnection, random: inout SeededRandom) throws {
        try connection.simpleQuery("BEGIN")
        for _ in 0..<Int(random.next(below: 5) + 1) {
            let id = random.next(below: 200)
            switch random.next(below: 6) {
            case 0, 1:
                try connection.query(
                    "INSERT INTO app.accounts VALUES ($1, 0) ON CONFLICT (id) DO UPDATE SET balance = app.accounts.balance + 1",
                    [String(id)])
            case 2:
                try connection.query("DELETE FROM app.accounts WHERE id = $1", [String(id)])
            case 3:
                try connection.query(
                    "INSERT INTO app.pairs VALUES ($1, $2, 1) ON CONFLICT (a, b) DO UPDATE SET v = app.pairs.v + 1",
                    [String(id % 20), "k\(id % 7)"])
            case 4:
                try connection.query(
                    "INSERT INTO app.tags VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = app.tags.n + 1", ["t\(id % 50)"])
            default:
                try connection.query("INSERT INTO app.nopk VALUES ($1, $2)", [String(id), "r\(random.next(below: 1000))"])
            }
        }
        try connection.simpleQuery(random.next(below: 10) == 0 ? "ROLLBACK" : "COMMIT")
    }
}

struct WorkloadError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A small deterministic generator (SplitMix64), so a failing run can be replayed.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: UInt64) -> UInt64 { next() % bound }
}
