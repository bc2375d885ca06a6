import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Transactions larger than the server's `logical_decoding_work_mem`, which it streams in
/// chunks while they run (pgoutput protocol 2): interleaved with others, rolled back whole or
/// a subtransaction at a time, and interrupted by a crash. Every result equals the
/// independent count. The database's `logical_decoding_work_mem` is the least there is (64kB),
/// and `--stream-memory 1` sends anything past a mebibyte to the sink, so a transaction of a
/// few megabytes exercises every path.
@Suite(.serialized)
struct StreamedTransactionTests {
    /// A test database whose walsender streams anything past 64kB.
    private static func database(_ label: String, valuesTables: [String] = []) throws -> TestDatabase {
        let database = try TestDatabase(label)
        try database.admin.simpleQuery("ALTER DATABASE \(database.name) SET logical_decoding_work_mem = '64kB'")
        try Workload.prepare(
            source: database.connection,
            environment: ["DAYBOOK_DATABASE": database.connectionString],
            slot: database.name,
            valuesTables: valuesTables
        )
        return database
    }

    private static func run(_ database: TestDatabase) throws -> DaybookProcess {
        try DaybookProcess(
            Workload.runArguments(database, extra: ["--stream-memory", "1"]),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
    }

    /// Transactions the server streamed for the slot so far (`pg_stat_replication_slots`).
    private static func streamedTransactions(_ database: TestDatabase) throws -> Int {
        Int(
            try database.scalar(
                "SELECT coalesce(sum(stream_txns), 0) FROM pg_stat_replication_slots WHERE slot_name = $1",
                [database.name]
            ) ?? "0"
        ) ?? 0
    }

    private static func heldChunks(_ database: TestDatabase) throws -> Int {
        Int(
            try database.scalar("SELECT count(*) FROM daybook.stream_chunks WHERE slot_name = $1", [database.name])
                ?? "0"
        ) ?? 0
    }

    /// A 100,000-row transaction streamed while small ones commit around it: the small ones
    /// count at once, the large one only at its commit, in the window of its commit time.
    @Test func aStreamedTransactionCountsAtItsCommitBesideInterleavedOnes() throws {
        let database = try Self.database("streamed", valuesTables: ["app.accounts"])
        let service = try Self.run(database)
        defer { service.stop() }
        let large = try PostgresConnection(ConnectionString(database.connectionString))
        try large.simpleQuery("BEGIN")
        try large.simpleQuery("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 50000) g")
        try database.execute("INSERT INTO app.tags VALUES ('between', 1)")
        try large.simpleQuery("UPDATE app.accounts SET balance = balance + 1 WHERE id % 2 = 0")
        try database.execute("UPDATE app.tags SET n = 2")
        try waitUntil("chunks of the open transaction wait in the sink", timeout: .seconds(120), log: service) {
            try Self.heldChunks(database) > 0
        }
        // They wait sealed (ChunkSeal): no row of the transaction is readable in the sink. In
        // clear, the first chunk holds row 4999 as pgoutput writes a text column: 't', a 4-byte
        // length, the text.
        #expect(
            try database.scalar(
                "SELECT count(*) FROM daybook.stream_chunks WHERE position('\\x740000000434393939'::bytea in messages) > 0"
            ) == "0"
        )
        // The interleaved transactions are in; nothing of the open one counts yet.
        try waitUntil("the interleaved transactions are checkpointed", log: service) {
            try database.scalar(
                "SELECT coalesce(sum(inserts + updates), 0) FROM daybook.table_windows WHERE table_name = 'app.tags'"
            )
                == "2"
        }
        #expect(
            try database.scalar("SELECT count(*) FROM daybook.table_windows WHERE table_name = 'app.accounts'") == "0"
        )
        try large.simpleQuery("DELETE FROM app.accounts WHERE id > 45000")
        try large.simpleQuery("COMMIT")
        try waitUntil("the streamed transaction is checkpointed", timeout: .seconds(120), log: service) {
            try database.scalar(
                "SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows WHERE table_name = 'app.accounts'"
            )
                == "50000"
        }
        #expect(try Self.streamedTransactions(database) >= 1)
        #expect(try Self.heldChunks(database) == 0)
        try database.heartbeatUntilEveryWindowCloses("every window closes", service: service)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try ValueAudit.mismatches(source: database.connection, sink: database.connection) == [])
    }

    /// A streamed transaction rolled back whole, and one whose subtransactions roll back (one
    /// nested in another, released into it first): what rolled back leaves nothing.
    @Test func rolledBackStreamedTransactionsAndSubtransactionsLeaveNothing() throws {
        let database = try Self.database("streamabort")
        let service = try Self.run(database)
        defer { service.stop() }
        try database.execute(
            """
            BEGIN;
            INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 40000) g;
            ROLLBACK;
            """
        )
        try database.execute(
            """
            BEGIN;
            INSERT INTO app.accounts SELECT g, 1 FROM generate_series(1, 20000) g;
            SAVEPOINT a;
            UPDATE app.accounts SET balance = 2 WHERE id <= 15000;
            SAVEPOINT b;
            DELETE FROM app.accounts WHERE id <= 5000;
            INSERT INTO app.tags SELECT 'gone' || g, g FROM generate_series(1, 3000) g;
            RELEASE b;
            UPDATE app.accounts SET balance = 3 WHERE id > 15000;
            ROLLBACK TO a;
            SAVEPOINT c;
            INSERT INTO app.pairs SELECT g, 'kept', g FROM generate_series(1, 20000) g;
            RELEASE c;
            SAVEPOINT d;
            DELETE FROM app.pairs WHERE a <= 10000;
            ROLLBACK TO d;
            UPDATE app.accounts SET balance = 4 WHERE id % 3 = 0;
            COMMIT;
            """
        )
        try waitUntil("the transaction is checkpointed", timeout: .seconds(120), log: service) {
            try database.scalar(
                "SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows WHERE table_name = 'app.pairs'"
            )
                == "20000"
        }
        #expect(try Self.streamedTransactions(database) >= 2)
        try database.heartbeatUntilEveryWindowCloses("every window closes", service: service)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        let tables = try database.connection.query(
            "SELECT table_name, sum(inserts), sum(updates), sum(deletes) FROM daybook.table_windows GROUP BY 1 ORDER BY 1"
        ).rows
        #expect(tables == [["app.accounts", "20000", "6666", "0"], ["app.pairs", "20000", "0", "0"]])
        #expect(try Self.heldChunks(database) == 0)
    }

    /// SIGKILL while a streamed transaction's chunks wait in the sink and its commit has not
    /// come: the restart deletes them, the server streams the transaction again from its
    /// start, and it counts once.
    @Test func crashBetweenChunksAndCommit() throws {
        let database = try Self.database("streamcrash")
        var service = try Self.run(database)
        let large = try PostgresConnection(ConnectionString(database.connectionString))
        try large.simpleQuery("BEGIN")
        try large.simpleQuery("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 60000) g")
        try database.execute("INSERT INTO app.tags VALUES ('before the crash', 1)")
        try waitUntil("chunks wait in the sink", timeout: .seconds(120), log: service) {
            try Self.heldChunks(database) > 0
        }
        service.killHard()
        service = try Self.run(database)
        defer { service.stop() }
        try large.simpleQuery("UPDATE app.accounts SET balance = 0 WHERE id <= 1000")
        try large.simpleQuery("COMMIT")
        try database.execute("INSERT INTO app.tags VALUES ('after the crash', 1)")
        try waitUntil("the streamed transaction is checkpointed", timeout: .seconds(120), log: service) {
            try database.scalar(
                "SELECT coalesce(sum(updates), 0) FROM daybook.table_windows WHERE table_name = 'app.accounts'"
            )
                == "1000"
        }
        try database.heartbeatUntilEveryWindowCloses("every window closes after the restart", service: service)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try Self.heldChunks(database) == 0)
    }

    /// `--no-streaming` asks for protocol 1: the server decodes the transaction whole after
    /// its commit, and the results are the same.
    @Test func withoutStreamingTheServerSendsItAfterItsCommit() throws {
        let database = try Self.database("nostream")
        let service = try DaybookProcess(
            Workload.runArguments(database, extra: ["--no-streaming"]),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        try database.execute("INSERT INTO app.accounts SELECT g, g FROM generate_series(1, 30000) g")
        try waitUntil("the transaction is checkpointed", timeout: .seconds(120), log: service) {
            try database.scalar(
                "SELECT coalesce(sum(inserts), 0) FROM daybook.table_windows WHERE table_name = 'app.accounts'"
            )
                == "30000"
        }
        #expect(try Self.streamedTransactions(database) == 0)
        try database.heartbeatUntilEveryWindowCloses("every window closes", service: service)
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }
}
