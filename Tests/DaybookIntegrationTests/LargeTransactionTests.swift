import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// Source transactions far larger than a batch, and rows of hundreds of megabytes: memory
/// stays bounded, and a crash in the middle of one loses and doubles nothing.
@Suite(.serialized)
struct LargeTransactionTests {
    private static let megabyte = 1 << 20

    /// A million-row DELETE in one transaction: written to the sink in parts ahead of its
    /// commit, so memory does not grow with it.
    @Test func millionRowDeleteInBoundedMemory() throws {
        let database = try TestDatabase("million")
        // Filled before the slot exists: only the delete is the day's change.
        try database.execute(
            "CREATE SCHEMA bulk; CREATE TABLE bulk.rows (id integer PRIMARY KEY); "
                + "INSERT INTO bulk.rows SELECT g FROM generate_series(1, 1000000) g"
        )
        try Workload.prepare(database)
        try database.execute(IndependentCount.auditSQL(table: "bulk.rows", keyColumns: ["id"]))
        try database.execute("ALTER PUBLICATION daybook ADD TABLES IN SCHEMA bulk")
        let service = try DaybookProcess(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        try database.execute("DELETE FROM bulk.rows")
        try waitUntil("the delete is checkpointed", timeout: .seconds(300), log: service) {
            try database.scalar(
                "SELECT coalesce(sum(deletes), 0) FROM daybook.table_windows WHERE table_name = 'bulk.rows'"
            )
                == "1000000"
        }
        let peak = try #require(service.peakResidentBytes)
        print("million-row DELETE: peak resident memory \(peak / Self.megabyte) MB")
        #expect(peak < 150 * Self.megabyte, "memory grew with the transaction: \(peak / Self.megabyte) MB")
        #expect(service.stderr.contains("wrote part of a large transaction ahead of its commit"))

        try database.heartbeatUntilEveryWindowCloses("the day closes", service: service)
        let result = try database.connection.query(
            """
            SELECT count(*), count(*) FILTER (WHERE ops = 'D'), min((key->>'id')::int), max((key->>'id')::int)
              FROM daybook.key_windows WHERE table_name = 'bulk.rows'
            """
        ).rows.first
        #expect(result == ["1000000", "1000000", "1", "1000000"])
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        // The closed day's rows are its final rows: one per key, none left flagged for merging.
        let rows = try database.connection.query(
            "SELECT count(*), count(*) FILTER (WHERE repeated) FROM daybook.key_changes WHERE table_name = 'bulk.rows'"
        ).rows.first
        #expect(rows == ["1000000", "0"])
    }

    /// SIGKILL while a large transaction's parts are in the sink but its commit is not: the
    /// restart discards the parts and the slot sends the transaction again, whole.
    @Test func crashBetweenPartsAndCommit() throws {
        let database = try TestDatabase("parts")
        try Workload.prepare(database)
        try database.execute("INSERT INTO app.accounts SELECT g, 0 FROM generate_series(1, 60000) g")
        let environment = ["DAYBOOK_DATABASE": database.connectionString]
        let arguments = Workload.runArguments(database, extra: ["--batch-size", "2000"])
        var service = try DaybookProcess(arguments, environment: environment)
        try database.execute("UPDATE app.accounts SET balance = 1")
        try waitUntil("parts of the update are in the sink", log: service) {
            try database.scalar(
                "SELECT pending_lsn IS NOT NULL FROM daybook.checkpoint WHERE slot_name = $1",
                [database.name]
            )
                == "t"
        }
        service.killHard()
        let partsBefore = Int(try database.scalar("SELECT count(*) FROM daybook.key_changes") ?? "0") ?? 0
        #expect(partsBefore > 0)
        service = try DaybookProcess(arguments, environment: environment)
        defer { service.stop() }
        try database.execute("DELETE FROM app.accounts WHERE id <= 10")
        try database.heartbeatUntilEveryWindowCloses("every window closes after the restart", service: service)
        #expect(
            try database.scalar(
                "SELECT pending_lsn IS NULL FROM daybook.checkpoint WHERE slot_name = $1",
                [database.name]
            ) == "t"
        )
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }

    /// Rows of 150 MB: each arrives as one message, read straight from libpq's buffer (and,
    /// streamed, written straight from it to the sink), so memory is bounded by the largest
    /// row, not by how many there are.
    @Test func rowsOfHundredsOfMegabytes() throws {
        let database = try TestDatabase("huge")
        try Workload.prepare(database)
        let service = try DaybookProcess(
            Workload.runArguments(database),
            environment: ["DAYBOOK_DATABASE": database.connectionString]
        )
        defer { service.stop() }
        let rowBytes = 150 * Self.megabyte
        for id in 1...3 {
            // Compressible in the WAL (pglz), sent whole to the client.
            try database.connection.query(
                "INSERT INTO app.docs VALUES (md5($1)::uuid, 'big', repeat(md5($1), $2))",
                [String(id), String(rowBytes / 32)]
            )
        }
        try database.execute("UPDATE app.docs SET title = 'still big'")
        try database.execute("DELETE FROM app.docs")
        try waitUntil("the huge rows are checkpointed", timeout: .seconds(300), log: service) {
            try database.scalar(
                "SELECT coalesce(sum(deletes), 0) FROM daybook.table_windows WHERE table_name = 'app.docs'"
            )
                == "3"
        }
        let peak = try #require(service.peakResidentBytes)
        print("three 150 MB rows: peak resident memory \(peak / Self.megabyte) MB")
        // libpq holds a message twice (its input buffer and the copy it hands out). The
        // transaction is larger than logical_decoding_work_mem, so the server streams it
        // before its commit: each row goes to the sink sealed a mebibyte at a time from libpq's
        // buffer (ChunkSeal) and is read back at the commit through a second connection, whose
        // input buffer holds it sealed, and opened once more. Three such rows must not cost
        // three times that.
        #expect(peak < 4 * rowBytes + 150 * Self.megabyte, "\(peak / Self.megabyte) MB")
        try database.heartbeatUntilEveryWindowCloses("the day closes", service: service)
        #expect(try IndependentCount.tableMismatches(database.connection, windowSeconds: 2) == [])
        #expect(try IndependentCount.keyMismatches(database.connection, windowSeconds: 2) == [])
    }
}
