import Foundation

/// A throwaway PostgreSQL server managed through `scripts/throwaway-postgres`: started,
/// crashed (immediate shutdown), resumed on the same port, and removed. Shared by the fault
/// run and the benchmarks.
public final class Cluster: @unchecked Sendable {
    // @unchecked: `directory` and `connectionString` are immutable after init; the script
    // calls hold no Swift state, so calls from different threads cannot race on memory.
    public let directory: String
    public let connectionString: String
    private let script: String

    /// - Parameters:
    ///   - prefix: the start of the server's folder name, for clean-up by pattern.
    ///   - environment: more variables for the script, e.g. `FAKETIME_FILE` for a server clock
    ///     that the caller can move.
    public init(
        name: String,
        script: String,
        workDirectory: String,
        extraConfiguration: String,
        prefix: String = "daybook-fault",
        environment: [String: String] = [:]
    ) throws {
        self.script = script
        directory = "\(workDirectory)/\(prefix)-\(name)-\(UUID().uuidString.prefix(8))"
        try Self.run(
            script,
            ["start", directory],
            environment: environment.merging(["EXTRA_CONF": extraConfiguration]) { $1 }
        )
        let env = try String(contentsOfFile: directory + "/env", encoding: .utf8)
        guard let line = env.split(separator: "\n").first(where: { $0.hasPrefix("export DAYBOOK_TEST_DATABASE=") })
        else {
            throw SupportError("\(directory)/env has no connection string")
        }
        connectionString = String(line.dropFirst("export DAYBOOK_TEST_DATABASE=".count)).trimmingCharacters(
            in: CharacterSet(charactersIn: "'")
        )
    }

    /// The connection string for one database of this server.
    public func database(_ name: String) -> String { connectionString + " dbname=\(name)" }

    /// Immediate shutdown: no checkpoint, clients cut off, recovery on the next start.
    public func crash() throws { try Self.run(script, ["crash", directory]) }

    public func resume() throws { try Self.run(script, ["resume", directory]) }

    public func remove() { try? Self.run(script, ["stop", directory]) }

    private static func run(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // A file, not a pipe: the server started by pg_ctl inherits the descriptor and would
        // keep a pipe open forever.
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("throwaway-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        let message = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw SupportError("throwaway-postgres \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }
}
