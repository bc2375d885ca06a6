import DaybookTestSupport
import Foundation

/// Keeps one `daybook run` alive, as systemd's `Restart=always` would: a killed or exited
/// process is replaced, and the exits that were not ours are counted.
final class Supervisor {
    private let arguments: [String]
    private let environment: [String: String]
    private var process: DaybookProcess
    private(set) var restarts = 0
    /// The log of the last process that exited on its own, for the report.
    private(set) var lastLog = ""

    init(arguments: [String], environment: [String: String]) throws {
        self.arguments = arguments
        self.environment = environment
        process = try DaybookProcess(arguments, environment: environment)
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

    func stop() { process.stop() }

    var pid: Int32 { process.process.processIdentifier }

    private func replace() {
        while true {
            do {
                process = try DaybookProcess(arguments, environment: environment)
                return
            } catch {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }
}
