import DaybookTestSupport
import Foundation

/// Keeps one `daybook run` alive, as systemd's `Restart=always` would: a killed or exited
/// process is replaced, and the exits that were not ours are counted.
///
/// Every other process reads any backlog of a mebibyte or more through SQL decoding (backlog
/// mode, in 1 MiB ranges), so the faults also strike while a backlog is read and the slot
/// advanced; the others stream everything short of the default 64 MiB.
final class Supervisor {
    private let arguments: [String]
    private let environment: [String: String]
    private var process: DaybookProcess
    private var started = 0
    private(set) var restarts = 0
    /// Sessions that read a backlog through SQL decoding, counted from the logs.
    private(set) var backlogReads = 0
    /// Sessions that wrote value events ahead of their checkpoint on a second sink connection.
    private(set) var eventsAheadSessions = 0
    /// The log of the last process that exited on its own, for the report.
    private(set) var lastLog = ""

    static let backlogModeArguments = ["--backlog-threshold", "1", "--backlog-chunk", "1"]

    init(arguments: [String], environment: [String: String]) throws {
        self.arguments = arguments
        self.environment = environment
        process = try DaybookProcess(arguments, environment: environment)
        started = 1
    }

    /// SIGKILL now, and start a new one.
    func kill() {
        process.killHard()
        replace()
    }

    func restartIfExited() {
        guard !process.isRunning else { return }
        restarts += 1
        lastLog = String(process.stderr.suffix(2000))
        replace()
    }

    func stop() {
        process.stop()
        countSessionKinds()
    }

    var pid: Int32 { process.process.processIdentifier }

    private func countSessionKinds() {
        let log = process.stderr
        backlogReads += log.components(separatedBy: "reading the backlog through SQL decoding").count - 1
        eventsAheadSessions +=
            log.components(separatedBy: "value events of large checkpoints go on a second sink connection").count - 1
    }

    private func replace() {
        countSessionKinds()
        while true {
            do {
                let extra = started % 2 == 1 ? Self.backlogModeArguments : []
                process = try DaybookProcess(arguments + extra, environment: environment)
                started += 1
                return
            } catch {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }
}
