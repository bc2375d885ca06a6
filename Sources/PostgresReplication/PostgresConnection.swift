import CLibPQ
import Foundation

/// One libpq connection: either an ordinary SQL connection or, with `replication: true`, a
/// `replication=database` walsender connection.
///
/// Calls block the calling thread, so this type is used from a dedicated thread (the
/// replication pipeline) or from one-shot command-line commands, never on Swift's
/// cooperative thread pool. It is not `Sendable`: one owner at a time.
public final class PostgresConnection {
    let connection: OpaquePointer

    /// Connects and checks the result.
    ///
    /// - Parameters:
    ///   - connectionString: a libpq key/value string or URI; libpq's environment variables
    ///     fill in what it leaves out, as they do for `psql`.
    ///   - replication: open a logical replication (walsender) connection instead.
    ///   - applicationName: shown in `pg_stat_activity`.
    public init(
        _ connectionString: ConnectionString,
        replication: Bool = false,
        applicationName: String = "daybook"
    ) throws(PostgresError) {
        // Later entries override earlier ones, so the connection string can override the
        // defaults, and replication=database always wins. TCP keepalives and a user timeout
        // notice a peer that vanished (a partition, a host gone) within about two minutes
        // instead of the kernel's hours, so a blocked read or write fails and the service
        // reconnects; long statements send nothing and are not affected.
        var keywords = [
            "connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
            "dbname",
            "fallback_application_name",
        ]
        var values = ["10", "30", "10", "6", "120000", connectionString.value, applicationName]
        if replication {
            keywords.append("replication")
            values.append("database")
        }
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(.connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.connection, message: message)
        }
        // Server notices ("schema already exists, skipping") are not for the operator's terminal.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        self.connection = connection
    }

    deinit { PQfinish(connection) }

    /// `user@host:port/database`, without the password: safe to log.
    public var safeDescription: String {
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "?" }
        return
            "\(text(PQuser(connection)))@\(text(PQhost(connection))):\(text(PQport(connection)))/\(text(PQdb(connection)))"
    }

    /// The server's version as an integer, e.g. 150018.
    public var serverVersion: Int { Int(PQserverVersion(connection)) }

    /// The version of the libpq this process runs with (not the one it was built against):
    /// `15.18` for 150018. `daybook --version` prints it, since TLS, SCRAM and connection
    /// string features come from it.
    public static var libraryVersion: String {
        let number = Int(PQlibVersion())
        // From version 10 on: major * 10000 + minor.
        return number >= 100_000 ? "\(number / 10000).\(number % 10000)" : "\(number)"
    }

    /// Runs one statement with `$1…$n` parameters (text format) and returns all rows as text.
    ///
    /// Parameters travel separately from the SQL, so no value is ever spliced into a statement.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        let result = withOptionalCStringArray(parameters) { pointers in
            PQexecParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        return try QueryResult.checked(result, connection: connection)
    }

    /// Runs one or more statements with the simple query protocol (no parameters).
    ///
    /// Used for migrations and for replication commands, which the walsender accepts only
    /// over the simple protocol.
    @discardableResult
    public func simpleQuery(_ sql: String) throws(PostgresError) -> QueryResult {
        try QueryResult.checked(PQexec(connection, sql), connection: connection)
    }

    /// Runs `body` between BEGIN and COMMIT and returns what it returned. On any error, from
    /// `body` or from COMMIT, it rolls back (ignoring a failing ROLLBACK on a broken connection)
    /// and rethrows that error.
    @discardableResult
    public func withTransaction<T>(_ body: () throws -> T) throws -> T {
        try simpleQuery("BEGIN")
        do {
            let value = try body()
            try simpleQuery("COMMIT")
            return value
        } catch {
            _ = try? simpleQuery("ROLLBACK")
            throw error
        }
    }

    /// Quotes an identifier (table, schema, publication name) for safe use in SQL text.
    public func quoteIdentifier(_ identifier: String) -> String {
        guard let escaped = PQescapeIdentifier(connection, identifier, identifier.utf8.count) else {
            return "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Quotes a string literal for the places that cannot take a parameter (replication
    /// commands, DDL options).
    public func quoteLiteral(_ literal: String) -> String {
        guard let escaped = PQescapeLiteral(connection, literal, literal.utf8.count) else {
            return "'" + literal.replacingAll("'", with: "''") + "'"
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Next pending `NOTIFY`, if any has arrived (call after a query or `consumeInput`).
    public func nextNotification() -> (channel: String, payload: String)? {
        PQconsumeInput(connection)
        guard let notify = PQnotifies(connection) else { return nil }
        defer { PQfreemem(notify) }
        return (String(cString: notify.pointee.relname), String(cString: notify.pointee.extra))
    }

    /// The socket, for `poll`.
    public var socket: Int32 { PQsocket(connection) }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var output = ""
        for character in self { if character == target { output += replacement } else { output.append(character) } }
        return output
    }
}

func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    withOptionalCStringArray(strings.map { Optional($0) }) { pointers in
        body(pointers + [nil])
    }
}

func withOptionalCStringArray<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let duplicated = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for pointer in duplicated { free(pointer) } }
    return body(duplicated.map { $0.map { UnsafePointer($0) } })
}
