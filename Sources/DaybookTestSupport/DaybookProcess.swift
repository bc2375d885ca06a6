import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why the test support cannot do what it was asked; the message says how to fix it.
public struct SupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The real `daybook` executable, run as a child process (so tests and the fault run can
/// SIGKILL it). Output goes to temporary files, so a chatty child never blocks on a pipe.
public final class DaybookProcess {
    public let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    /// `DAYBOOK_BIN`, else `.build/debug/daybook` under the current directory.
    public static func binary() throws -> URL {
        let environment = ProcessInfo.processInfo.environment["DAYBOOK_BIN"]
        let path = environment ?? FileManager.default.currentDirectoryPath + "/.build/debug/daybook"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SupportError("\(path) is not the built daybook executable: build it (swift build) or set DAYBOOK_BIN")
        }
        return URL(fileURLWithPath: path)
    }

    /// Starts `daybook` with `arguments`. The caller's DAYBOOK_* and PG* variables are
    /// removed first, so only `environment` says where it connects.
    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let directory = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        stdoutURL = directory.appendingPathComponent("daybook-\(id).out")
        stderrURL = directory.appendingPathComponent("daybook-\(id).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = try Self.binary()
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for variable in [
            "DAYBOOK_DATABASE", "DAYBOOK_SINK", "DAYBOOK_SLOT", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD",
            "PGDATABASE",
        ] {
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

    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process.isRunning }

    /// The most memory the process has held resident so far (Linux `VmHWM`), in bytes; nil
    /// once it has exited.
    public var peakResidentBytes: Int? {
        guard process.isRunning,
            let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// SIGKILL: no last checkpoint, no goodbye — a crash.
    public func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then wait for the graceful exit.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs a command to completion.
    @discardableResult
    public static func run(
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let child = try DaybookProcess(arguments, environment: environment)
        let status = child.wait()
        return (status, child.stdout, child.stderr)
    }
}
