import Foundation

/// A failure reported by libpq or by the server, with the server's SQLSTATE when there is one.
///
/// Messages come from libpq and the server, which never echo a password; callers turn them
/// into advice (see Daybook's `DaybookError`).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case connection, query, replication, protocolViolation }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// Could not connect or authenticate, or the connection broke.
        public static let connection = Code(.connection)
        /// The server rejected a statement.
        public static let query = Code(.query)
        /// The replication stream failed (COPY ended, slot problems).
        public static let replication = Code(.replication)
        /// The server sent something the replication protocol does not allow.
        public static let protocolViolation = Code(.protocolViolation)
        public var description: String {
            switch base {
            case .connection: "connection"
            case .query: "query"
            case .replication: "replication"
            case .protocolViolation: "protocol"
            }
        }
    }

    public let code: Code
    /// The server's or libpq's message, trimmed to one line.
    public let message: String
    /// Five-character SQLSTATE such as `42704`, when the server sent one.
    public let sqlState: String?

    public init(_ code: Code, message: String, sqlState: String? = nil) {
        self.code = code
        self.message =
            message
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
        self.sqlState = sqlState
    }

    public var description: String {
        sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message
    }
}
