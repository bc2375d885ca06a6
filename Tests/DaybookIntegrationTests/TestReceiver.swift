import DaybookTestSupport
import Foundation

/// A real receiver of deliveries, one of the Python scripts in `Tests/Receivers` (an HTTP
/// receiver that checks signatures, an SMTP server), running until ``stop()``: it writes one
/// JSON line per request or message, read back by ``records``.
final class TestReceiver {
    let process = Process()
    let port: Int
    let log: URL

    /// Starts `script` with `--port` and `--log` added, and waits until it listens.
    init(script: String, python: String = "python3", arguments: [String], port: Int? = nil) throws {
        if let port { self.port = port } else { self.port = try freePort() }
        log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "daybook-receiver-\(UUID().uuidString).jsonl"
        )
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Receivers/\(script)")
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, path.path, "--port", String(self.port), "--log", log.path] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // It prints "listening" once the socket is bound.
        _ = output.fileHandleForReading.availableData
    }

    /// What it received, in order.
    var records: [[String: Any]] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Ends the receiver (a test's `defer`: a child outlives a test that only forgets it).
    func stop() {
        if process.isRunning {
            // SIGKILL: a child of the test process may have SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: log)
    }
}
