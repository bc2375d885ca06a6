import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

extension PostgresConnection {
    /// Runs `COPY … FROM STDIN` and sends `data` as its input.
    ///
    /// The data goes out in chunks of at most 1 MiB, so a batch of any size never needs a
    /// second copy inside libpq. A server error (a constraint, a malformed row) comes back
    /// as a ``PostgresError`` after the COPY ends, as it does for any statement.
    ///
    /// - Returns: the number of rows the server copied.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8]) throws(PostgresError) -> Int {
        let result: Result<Int, PostgresError> = data.withUnsafeBytes { bytes in
            Result { () throws(PostgresError) in try copyIn(sql, pieces: [bytes]) }
        }
        return try result.get()
    }

    /// Runs `COPY … FROM STDIN` with the concatenation of `pieces` as its input, so that a
    /// large value can go out from where it lies, between the bytes around it, uncopied.
    @discardableResult
    public func copyIn(_ sql: String, pieces: [UnsafeRawBufferPointer]) throws(PostgresError) -> Int {
        try copyIn(sql) { send in
            for piece in pieces { try send(piece) }
        }
    }

    /// Runs `COPY … FROM STDIN` with what `produce` sends, piece by piece as it makes them, so
    /// that a large input never needs to exist whole (a value sealed a piece at a time).
    @discardableResult
    public func copyIn(
        _ sql: String,
        produce: (_ send: (UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws(PostgresError) -> Int {
        try startCopy(sql, PGRES_COPY_IN, "COPY FROM STDIN")
        let chunk = 1 << 20
        var sendFailure: String?
        do {
            try produce { piece in
                var offset = 0
                while offset < piece.count {
                    let count = min(chunk, piece.count - offset)
                    let pointer = piece.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                    if PQputCopyData(connection, pointer, Int32(count)) != 1 {
                        sendFailure = String(cString: PQerrorMessage(connection))
                        throw PostgresError(.connection, message: "could not send COPY data")
                    }
                    offset += count
                }
            }
        } catch {
            if sendFailure == nil { sendFailure = "the input could not be made: \(error)" }
        }
        let ended = PQputCopyEnd(connection, sendFailure == nil ? nil : "daybook could not send the COPY data")
        if let sendFailure {
            throw PostgresError(.connection, message: "could not send COPY data: \(sendFailure)")
        }
        guard ended == 1 else {
            throw PostgresError(
                .connection,
                message: "could not end COPY: " + String(cString: PQerrorMessage(connection))
            )
        }
        return try copyResult()
    }

    /// Sends a COPY FROM STDIN statement and checks that the server entered the COPY (`status`).
    private func startCopy(_ sql: String, _ status: ExecStatusType, _ name: String) throws(PostgresError) {
        guard let started = PQexec(connection, sql) else {
            throw PostgresError(.connection, message: String(cString: PQerrorMessage(connection)))
        }
        guard PQresultStatus(started) == status else {
            // Not in COPY: an error (or a statement that was not this kind of COPY).
            _ = try QueryResult.checked(started, connection: connection)
            throw PostgresError(.query, message: "the statement did not start \(name)")
        }
        PQclear(started)
    }

    /// The result of a COPY that has ended: its row count, or its error. Every result is
    /// drained, so the connection is ready for the next statement even on error.
    private func copyResult() throws(PostgresError) -> Int {
        var rows = 0
        var failure: PostgresError?
        while let result = PQgetResult(connection) {
            do {
                rows = try QueryResult.checked(result, connection: connection).affectedRows
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return rows
    }
}

extension PostgresConnection {
    /// Runs `COPY … TO STDOUT` and hands each CopyData message to `handle` as libpq returns
    /// it, so that a result of any size passes through a buffer of one row.
    ///
    /// Nothing blocks for longer than a second: while the server works before sending (a
    /// statement that materialises its result first can take minutes), `idle` is called once
    /// a second, so the caller can show that it is alive, or throw to give up.
    ///
    /// If `handle` or `idle` throws, the COPY is abandoned mid-way: the server is asked to
    /// cancel the statement (so it stops working for nobody and lets go of what it holds, such
    /// as a replication slot), and the connection is no longer usable for statements: close it.
    ///
    /// - Returns: the number of rows the server sent.
    @discardableResult
    public func copyOut(
        _ sql: String,
        idle: () throws -> Void = {},
        _ handle: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        guard PQsendQuery(connection, sql) == 1 else {
            throw PostgresError(.connection, message: String(cString: PQerrorMessage(connection)))
        }
        // What the caller throws abandons the statement; the connection's own failures do not
        // (a cancel request to a server that vanished could wait minutes for its TCP connect).
        let idle = {
            do { try idle() } catch {
                self.cancelStatement()
                throw error
            }
        }
        while PQisBusy(connection) == 1 { try awaitInput(idle: idle) }
        guard let started = PQgetResult(connection) else {
            throw PostgresError(.query, message: "the statement did not start COPY TO STDOUT")
        }
        guard PQresultStatus(started) == PGRES_COPY_OUT else {
            // An error (or a statement that was not COPY TO STDOUT): drain, then say which.
            var failure = PostgresError(.query, message: "the statement did not start COPY TO STDOUT")
            do { _ = try QueryResult.checked(started, connection: connection) } catch { failure = error }
            while let rest = PQgetResult(connection) { PQclear(rest) }
            throw failure
        }
        PQclear(started)
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection, &buffer, 1)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                do { try handle(UnsafeRawBufferPointer(start: buffer, count: Int(length))) } catch {
                    cancelStatement()
                    throw error
                }
                continue
            }
            if length == 0 {
                try awaitInput(idle: idle)
                continue
            }
            if length == -2 {
                throw PostgresError(
                    .connection,
                    message: "COPY TO STDOUT failed: " + String(cString: PQerrorMessage(connection))
                )
            }
            break  // -1: the COPY is done; its result follows
        }
        return try copyResult()
    }

    /// Asks the server to cancel the statement this connection runs, best effort (libpq's
    /// cancel request, over a connection of its own).
    public func cancelStatement() {
        makeCanceller()?.cancelStatement()
    }

    /// Waits up to a second for the server to send something and reads it into libpq,
    /// calling `idle` when nothing came.
    private func awaitInput(idle: () throws -> Void) throws {
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 1000)
        if ready < 0 && errno != EINTR {
            throw PostgresError(.connection, message: "poll failed on the connection's socket (errno \(errno))")
        }
        if ready == 0 { try idle() }
        if PQconsumeInput(connection) == 0 {
            throw PostgresError(.connection, message: String(cString: PQerrorMessage(connection)))
        }
    }
}
