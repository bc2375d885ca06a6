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

    /// Whether libpq reads this as a connection string or URI rather than a bare database name.
    private var isConnectionString: Bool {
        value.contains("=") || value.hasPrefix("postgresql://") || value.hasPrefix("postgres://")
    }

    /// Checks the syntax with libpq's own parser, so a typo is reported before connecting.
    ///
    /// libpq's own message quotes the offending text, which may be a password, so it is
    /// never shown; a bare database name (`app`) is valid, as for `psql`.
    /// - Returns: nil when valid, else a message that repeats nothing of the string.
    public func syntaxError() -> String? {
        guard isConnectionString else { return nil }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let options = PQconninfoParse(value, &errorMessage)
        if let errorMessage { PQfreemem(errorMessage) }
        guard let options else {
            return "libpq cannot parse it as key=value pairs or a postgresql:// URI "
                + "(check quoting, spaces around '=', and percent-encoding in URIs)"
        }
        PQconninfoFree(options)
        return nil
    }
}
