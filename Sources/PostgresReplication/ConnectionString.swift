import CLibPQ

/// A libpq connection string or URI, kept out of logs and error messages.
///
/// Its `description` never shows the string itself (it may hold a password); once connected,
/// ``PostgresConnection/safeDescription`` says where the connection went.
public struct ConnectionString: Sendable, CustomStringConvertible {
    /// The string as given; empty means "use PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD".
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<connection string>" }

    /// Checks the syntax with libpq's own parser, so a typo is reported before connecting.
    /// - Returns: nil when valid, else libpq's message (which never includes a password).
    public func syntaxError() -> String? {
        guard !value.isEmpty else { return nil }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(value, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            return errorMessage.map { String(cString: $0).trimmingNewlines() } ?? "invalid connection string"
        }
        PQconninfoFree(options)
        return nil
    }
}

extension String {
    func trimmingNewlines() -> String {
        split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
