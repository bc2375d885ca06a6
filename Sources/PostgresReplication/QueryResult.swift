import CLibPQ

/// All rows of a statement's result, as text (NULL is nil), copied out of libpq's memory.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows affected, for INSERT/UPDATE/DELETE (libpq's `PQcmdTuples`).
    public let affectedRows: Int

    /// The first row's first value, for single-value queries.
    public var scalar: String? { rows.first?.first ?? nil }

    /// The value of column `name` in `row`.
    public func value(_ name: String, row: Int) -> String? {
        guard let index = columns.firstIndex(of: name), row < rows.count else { return nil }
        return rows[row][index]
    }

    static func checked(_ result: OpaquePointer?, connection: OpaquePointer) throws(PostgresError) -> QueryResult {
        guard let result else {
            throw PostgresError(.connection, message: String(cString: PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_BOTH:
            return QueryResult(result)
        default:
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result))
            let code: PostgresError.Code = PQstatus(connection) == CONNECTION_OK ? .query : .connection
            throw PostgresError(code, message: message, sqlState: sqlState)
        }
    }

    private init(_ result: OpaquePointer) {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }
}
