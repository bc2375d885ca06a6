import DaybookTestSupport
import Foundation
import PostgresReplication
import Testing

/// The benchmark creates and drops databases and slots: on a server it did not start itself
/// it refuses to run unless told explicitly, and touches nothing.
struct BenchmarkSafetyTests {
    @Test func anExistingServerIsRefusedWithoutExplicitConsent() throws {
        let server = try TestDatabase.serverConnectionString()
        let admin = try PostgresConnection(ConnectionString(server))
        let slotsBefore = try admin.query("SELECT count(*) FROM pg_replication_slots").scalar
        let databasesBefore = try admin.query("SELECT count(*) FROM pg_database").scalar

        let bench = Process()
        bench.executableURL = URL(
            fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug/daybook-bench"
        )
        bench.arguments = [
            "catchup", "--source", server, "--sink", server, "--daybook", try DaybookProcess.binary().path,
        ]
        let errors = Pipe()
        bench.standardError = errors
        bench.standardOutput = FileHandle.nullDevice
        try bench.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        bench.waitUntilExit()

        #expect(bench.terminationStatus != 0)
        #expect(message.contains("--allow-existing-servers"), "\(message)")
        #expect(!message.contains("password"), "the connection string is not echoed")
        #expect(try admin.query("SELECT count(*) FROM pg_replication_slots").scalar == slotsBefore)
        #expect(try admin.query("SELECT count(*) FROM pg_database").scalar == databasesBefore)
    }
}
