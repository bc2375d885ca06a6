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

/// The sink, its schema checked to be the one this binary writes (else one line says to
/// run `daybook migrate`).
func connectCurrentSink(_ options: ConnectionOptions) throws -> PostgresConnection {
    let sink = try connect(options.sinkConnection, role: .sink)
    try Migrator.requireCurrent(sink)
    return sink
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

/// Writes `text` next to its final name first, then renames it: a reader (a mailer, a web
/// server) never sees half a report or digest.
func saveAtomically(_ text: String, directory: String, name: String, what: String) throws {
    let folder = URL(fileURLWithPath: directory, isDirectory: true)
    let target = folder.appendingPathComponent(name)
    let partial = folder.appendingPathComponent(".\(name).partial")
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: partial)
        if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
        try FileManager.default.moveItem(at: partial, to: target)
    } catch {
        throw DaybookError(.configuration, "cannot save the \(what) to \(target.path): \(error.localizedDescription)")
    }
}
