import ArgumentParser
import Dispatch
import Foundation
import PostgresReplication
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body`, whose statements run on `connection`, so that SIGINT or SIGTERM cancels the
/// statement on the server before the command exits.
///
/// Without this, `timeout 60 daybook report …` (or a Ctrl-C) ended the process while its
/// statement went on running on the sink for many minutes. Here the signal sends libpq's
/// cancel request, the statement ends with "canceling statement due to user request", and the
/// command exits as interrupted commands do: 130 for SIGINT, 143 for SIGTERM, saying so.
func cancellingOnSignals<T>(_ connection: PostgresConnection, command: String, _ body: () throws -> T) throws -> T {
    guard let canceller = connection.makeCanceller() else { return try body() }
    let received = Mutex<Int32?>(nil)
    let signals = [SIGINT, SIGTERM]
    let sources = signals.map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler {
            received.withLock { $0 = $0 ?? signalNumber }
            canceller.cancelStatement()
        }
        source.resume()
        return source
    }
    defer {
        for source in sources { source.cancel() }
        for signalNumber in signals { signal(signalNumber, SIG_DFL) }
    }
    func exitIfInterrupted() throws {
        guard let signalNumber = received.withLock({ $0 }) else { return }
        let name = signalNumber == SIGINT ? "SIGINT" : "SIGTERM"
        printError("\(command) interrupted by \(name); its statement on the sink was cancelled")
        throw ExitCode(128 + signalNumber)
    }
    let result: T
    do { result = try body() } catch {
        try exitIfInterrupted()
        throw error
    }
    try exitIfInterrupted()
    return result
}
