import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `daybook` executable, run as a child process (so tests can SIGKILL it).
final class DaybookProcess {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    static func binary() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["DAYBOOK_BIN"], FileManager.default.isExecutableFile(atPath: path)
        else {
            Issue.record("DAYBOOK_BIN does not name the built daybook executable: run the tests with scripts/test")
            throw TestSetupError.noServer
        }
        return URL(fileURLWithPath: path)
    }

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let directory = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        stdoutURL = directory.appendingPathComponent("daybook-\(id).out")
        stderrURL = directory.appendingPathComponent("daybook-\(id).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = try Self.binary()
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for variable in ["DAYBOOK_DATABASE", "DAYBOOK_SINK", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] {
            merged[variable] = nil
        }
        merged.merge(environment) { _, new in new }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then wait for the graceful exit.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs a command to completion.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try DaybookProcess(arguments, environment: environment)
        let status = child.wait()
        return (status, child.stdout, child.stderr)
    }
}
