import DaybookCore
import PostgresReplication
import Synchronization

/// A few open connections to one database, reused by the long-running readers (the API, the
/// dashboard, `serve`'s metrics and lag sampler) instead of a connection per request.
///
/// libpq blocks, so the pool is used from blocking threads (NIO's thread pool), never from the
/// cooperative pool; a `Mutex` guards the idle list only for the instant it takes to take or
/// return a connection. A connection is checked once, when it is opened (`prepare`: the sink's
/// schema version), and reset with `DISCARD ALL` when it comes back, as a pooler resets a
/// server connection, so that one request's session settings (the status's `TimeZone`) never
/// reach the next; one that cannot be reset is closed instead of kept.
final class ConnectionPool: Sendable {
    private let connectionString: ConnectionString
    private let role: DatabaseRole
    private let prepare: @Sendable (PostgresConnection) throws(DaybookError) -> Void
    private let maxIdle: Int
    private let idle = Mutex<[IdleConnection]>([])

    /// A connection while it waits in the idle list. Safe to send although a connection is not
    /// `Sendable`: it is only ever in one place, either in the list, reachable only under the
    /// pool's mutex, or taken out of it by one borrower, who has it alone until it gives it back.
    private struct IdleConnection: @unchecked Sendable {
        let connection: PostgresConnection
    }

    init(
        _ connectionString: ConnectionString,
        role: DatabaseRole,
        maxIdle: Int = 4,
        prepare: @escaping @Sendable (PostgresConnection) throws(DaybookError) -> Void = { _ in }
    ) {
        self.connectionString = connectionString
        self.role = role
        self.maxIdle = maxIdle
        self.prepare = prepare
    }

    /// Runs `body` with a connection of its own, an idle one or a new one, and takes it back
    /// afterwards, also when `body` threw (a failed statement has ended its transaction; a
    /// broken connection fails the reset and is closed). An idle connection the server has
    /// closed meanwhile (a restart) is found out by the first statement: `body` then runs once
    /// more on a new connection, so a restart costs no request an error. Bodies only read.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnectionIfAvailable { taken in try body(taken.get()) }
    }

    /// Like ``withConnection(_:)``, but a connection that cannot be had is handed to `body` as
    /// the failure, for readers that can answer without this database (the status without
    /// its source).
    func withConnectionIfAvailable<T>(_ body: (Result<PostgresConnection, DaybookError>) throws -> T) throws -> T {
        let waiting = idle.withLock { $0.popLast() }
        if let waiting {
            do {
                defer { giveBack(waiting.connection) }
                return try body(.success(waiting.connection))
            } catch  where Self.lostConnection(error) {
                // Found out as closed; the reset in giveBack failed too, so it is gone.
            }
        }
        let connection: PostgresConnection
        do { connection = try open() } catch { return try body(.failure(error)) }
        defer { giveBack(connection) }
        return try body(.success(connection))
    }

    private func open() throws(DaybookError) -> PostgresConnection {
        let connection = try PostgresConnection.open(connectionString, role: role)
        try prepare(connection)
        return connection
    }

    /// Whether `error` says the connection itself is gone, as opposed to a statement that failed.
    private static func lostConnection(_ error: any Error) -> Bool {
        switch error {
        case let error as DaybookError: error.code == .connection
        case let error as PostgresError: error.code == .connection
        default: false
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        do { _ = try connection.simpleQuery("DISCARD ALL") } catch { return }
        let returned = IdleConnection(connection: connection)
        idle.withLock { list in
            if list.count < maxIdle { list.append(returned) }
        }
    }
}
