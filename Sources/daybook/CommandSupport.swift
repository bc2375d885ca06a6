import ArgumentParser
import Daybook
import DaybookCore
import Foundation
import Logging
import PostgresReplication

/// Runs a command body, turning a ``DaybookError`` into one line on stderr and its exit code.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DaybookError {
        printError(error.message)
        throw ExitCode(error.exitCode)
    }
}

/// ``reportingErrors(_:)`` for an async body (a name of its own: with a trailing closure the
/// two would be ambiguous).
func reportingErrorsAsync<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as DaybookError {
        printError(error.message)
        throw ExitCode(error.exitCode)
    }
}

func printError(_ message: String, prefix: String = "daybook: error") {
    FileHandle.standardError.write(Data("\(prefix): \(message)\n".utf8))
}

/// Opens an ordinary connection, with advice on failure.
func connect(_ string: ConnectionString, role: DatabaseRole) throws -> PostgresConnection {
    try PostgresConnection.open(string, role: role)
}

func bootstrapLogging(level: String) throws {
    guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
        throw ValidationError(
            "--log-level '\(level)' is not one of trace, debug, info, notice, warning, error, critical"
        )
    }
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = parsed
        return handler
    }
}
