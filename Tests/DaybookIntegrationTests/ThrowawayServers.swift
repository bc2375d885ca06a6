import Foundation
import Testing

/// Servers a test makes itself with `scripts/throwaway-postgres` (primaries, standbys,
/// promotions, crashes), of the same PostgreSQL as the test server (DAYBOOK_PG_BINDIR), each in
/// a directory of its own; ``stopAll()`` removes them.
final class ThrowawayServers {
    static let password = "daybook-test-password"
    let bindir: String
    private var directories: [String] = []

    init() throws {
        guard let bindir = ProcessInfo.processInfo.environment["DAYBOOK_PG_BINDIR"], !bindir.isEmpty else {
            Issue.record("DAYBOOK_PG_BINDIR is not set: run the tests with scripts/test or scripts/test-versions")
            throw TestSetupError.noServer
        }
        self.bindir = bindir
    }

    /// The connection string of the server on `port`, database `postgres` unless told.
    static func connectionString(port: Int, database: String = "postgres") -> String {
        "host=127.0.0.1 port=\(port) user=postgres password=\(password) dbname=\(database)"
    }

    /// A new primary on `port`; returns its directory.
    func start(port: Int) throws -> String {
        try script(["start"], port: port)
    }

    /// A physical standby of the server in `primary` on `port` (with failover slots copied,
    /// PostgreSQL 17+, when `synchronizingSlots`); returns its directory.
    func standby(of primary: String, port: Int, synchronizingSlots: Bool = false) throws -> String {
        try script(["standby", primary], port: port, environment: synchronizingSlots ? ["SYNC_SLOTS": "on"] : [:])
    }

    func promote(_ directory: String) throws { _ = try script(["promote", directory]) }
    func crash(_ directory: String) throws { _ = try script(["crash", directory]) }
    /// Starts a crashed server again.
    func resume(_ directory: String) throws { _ = try script(["resume", directory]) }

    /// Runs throwaway-postgres; for start and standby, in a new directory it returns.
    private func script(_ arguments: [String], port: Int? = nil, environment: [String: String] = [:]) throws -> String {
        var arguments = arguments
        var directory = ""
        if port != nil {
            directory = NSTemporaryDirectory() + "daybook-servers-\(UUID().uuidString.prefix(8))"
            directories.append(directory)
            arguments.append(directory)
        }
        var variables = ["PG_BINDIR": bindir]
        if let port { variables["PORT"] = String(port) }
        variables.merge(environment) { $1 }
        let result = try runProgram(
            URL(fileURLWithPath: "scripts/throwaway-postgres"),
            arguments,
            environment: ProcessInfo.processInfo.environment.merging(variables) { $1 }
        )
        guard result.status == 0 else {
            throw TestSetupError.timeout("throwaway-postgres \(arguments): \(result.output)")
        }
        return directory
    }

    /// Stops every server and deletes its directory.
    func stopAll() {
        for directory in directories.reversed() {
            _ = try? runProgram(URL(fileURLWithPath: "scripts/throwaway-postgres"), ["stop", directory])
        }
        directories = []
    }
}
