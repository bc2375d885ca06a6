import Foundation
import Testing

/// The test server on a fake clock (libfaketime), started by scripts/test: a test moves its
/// clock to commit on any date and time, and back to now when done.
struct FakeClockServer {
    let connectionString: String
    let clockFile: String

    /// The server scripts/test started; nil, with the test failed and told why, without it.
    static func fromEnvironment() -> FakeClockServer? {
        let environment = ProcessInfo.processInfo.environment
        guard let server = environment["DAYBOOK_TEST_DATABASE_FAKETIME"],
            let clock = environment["DAYBOOK_TEST_FAKETIME_FILE"]
        else {
            Issue.record("DAYBOOK_TEST_DATABASE_FAKETIME is not set: run the tests with scripts/test")
            return nil
        }
        return FakeClockServer(connectionString: server, clockFile: clock)
    }

    /// Moves the server's clock so that it reads `iso` now (it keeps ticking from there).
    func set(_ iso: String) throws {
        let target = try #require(ISO8601DateFormatter().date(from: iso))
        let offset = Int(target.timeIntervalSinceNow.rounded())
        try Data((offset >= 0 ? "+\(offset)\n" : "\(offset)\n").utf8).write(to: URL(fileURLWithPath: clockFile))
    }

    /// Back to the real time.
    func reset() { try? set(ISO8601DateFormatter().string(from: Date())) }
}
