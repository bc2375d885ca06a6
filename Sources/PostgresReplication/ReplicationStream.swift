import CLibPQ
import Foundation
import WAL

#if canImport(Glibc)
import Glibc
#endif

/// A logical replication connection: identify, start streaming from a slot, read frames,
/// send status updates.
///
/// Reading uses libpq in non-blocking mode and `poll` on its socket with a timeout, so the
/// owner can send status updates on time while the stream is idle. Like
/// ``PostgresConnection`` it blocks its thread and has one owner.
public final class ReplicationStream {
    public let connection: PostgresConnection
    private var streaming = false

    public struct SystemIdentity: Sendable {
        public var systemID: String
        public var timeline: Int
        /// The server's current WAL flush position.
        public var walPosition: LSN
        public var database: String?
    }

    public init(_ connectionString: ConnectionString, applicationName: String = "daybook") throws(PostgresError) {
        connection = try PostgresConnection(connectionString, replication: true, applicationName: applicationName)
    }

    /// `IDENTIFY_SYSTEM`: who the server is and where its WAL ends now.
    public func identifySystem() throws(PostgresError) -> SystemIdentity {
        let result = try connection.simpleQuery("IDENTIFY_SYSTEM")
        guard let row = result.rows.first, row.count >= 4, let position = row[2].flatMap(LSN.init) else {
            throw PostgresError(.protocolViolation, message: "IDENTIFY_SYSTEM returned an unexpected row")
        }
        return SystemIdentity(
            systemID: row[0] ?? "",
            timeline: Int(row[1] ?? "") ?? 0,
            walPosition: position,
            database: row[3]
        )
    }

    /// `TIMELINE_HISTORY`: the history file of `timeline` (empty for timeline 1, which has
    /// none), as text: a line per earlier timeline, its id, where it ended, and why.
    public func timelineHistory(_ timeline: Int) throws(PostgresError) -> String {
        guard timeline > 1 else { return "" }
        let result = try connection.simpleQuery("TIMELINE_HISTORY \(timeline)")
        guard let row = result.rows.first, row.count >= 2, let content = row[1] else {
            throw PostgresError(.protocolViolation, message: "TIMELINE_HISTORY returned an unexpected row")
        }
        return content
    }

    /// `START_REPLICATION SLOT … LOGICAL …` for pgoutput.
    ///
    /// The server starts at the later of `startLSN` and the slot's confirmed position.
    ///
    /// - Parameter streamInProgress: ask for pgoutput protocol 2 with `streaming 'on'`: the server
    ///   sends a transaction larger than `logical_decoding_work_mem` in chunks while it runs,
    ///   instead of decoding it whole to disk after its commit. Without it, protocol 1.
    public func start(
        slot: String,
        at startLSN: LSN,
        publications: [String],
        messages: Bool = false,
        streamInProgress: Bool = false
    ) throws(PostgresError) {
        let names = publications.map { "\"" + $0.replacingAll("\"", with: "\"\"") + "\"" }.joined(separator: ",")
        // Replication commands take standard SQL literals only (no E'' escapes).
        let literal = "'" + names.replacingAll("'", with: "''") + "'"
        var options = ["proto_version '\(streamInProgress ? 2 : 1)'", "publication_names \(literal)"]
        if messages { options.append("messages 'true'") }
        if streamInProgress { options.append("streaming 'on'") }
        let command =
            "START_REPLICATION SLOT \(connection.quoteIdentifier(slot)) LOGICAL \(startLSN) ("
            + options.joined(separator: ", ") + ")"
        try connection.simpleQuery(command)
        guard PQsetnonblocking(connection.connection, 1) == 0 else {
            throw PostgresError(
                .replication,
                message: "could not switch the replication connection to non-blocking mode"
            )
        }
        streaming = true
        // Wake for a useful amount of data, not for every small segment the walsender sends:
        // while catching up, each wake-up then reads a full libpq buffer instead of one
        // message, which saves most of the poll/recv calls and context switches. Reads
        // still happen at least every `lowWaterWait`, so a trickle is never held up longer.
        var lowWater = Int32(Self.lowWaterBytes)
        _ = setsockopt(
            PQsocket(connection.connection),
            SOL_SOCKET,
            SO_RCVLOWAT,
            &lowWater,
            socklen_t(MemoryLayout<Int32>.size)
        )
    }

    /// How much data wakes the reader (libpq reads 16 KiB at a time).
    static let lowWaterBytes = 16 * 1024
    /// The longest a reader waits for the low-water mark before reading what is there: short
    /// while data flows, longer while the stream is idle (fewer idle wake-ups), never more
    /// than a delay nobody notices next to a checkpoint interval.
    static let shortestWait: Duration = .milliseconds(5)
    static let longestWait: Duration = .milliseconds(40)
    private var lowWaterWait = ReplicationStream.shortestWait

    /// Reads the next frame, waiting at most `timeout`.
    ///
    /// - Returns: nil when nothing arrived in time.
    /// - Throws: ``PostgresError`` when the stream ends or breaks (the server's error message
    ///   included, e.g. a slot invalidated or a terminated walsender).
    public func read(timeout: Duration) throws(PostgresError) -> ReplicationFrame? {
        guard let bytes = try nextCopyData(timeout: timeout) else { return nil }
        defer { PQfreemem(bytes.baseAddress) }
        return try ReplicationFrame.parse(UnsafeRawBufferPointer(bytes))
    }

    /// Reads the next frame and hands it to `handle` with its payload still in libpq's
    /// buffer: the service's path. Nothing is copied, so a row of hundreds of megabytes
    /// costs no second copy, and a steady stream costs no allocation of ours per message.
    /// The payload is valid only inside `handle`.
    ///
    /// - Returns: false when nothing arrived within `timeout`.
    /// - Throws: ``PostgresError`` for a broken stream; whatever `handle` throws.
    public func read(
        timeout: Duration,
        _ handle: (ReplicationFrameHeader, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Bool {
        guard let bytes = try nextCopyData(timeout: timeout) else { return false }
        defer { PQfreemem(bytes.baseAddress) }
        let (header, payload) = try ReplicationFrameHeader.parse(UnsafeRawBufferPointer(bytes))
        try handle(header, payload)
        return true
    }

    /// The next CopyData message as libpq allocated it (free with `PQfreemem`), or nil
    /// when none arrived within `timeout`.
    private func nextCopyData(timeout: Duration) throws(PostgresError) -> UnsafeMutableRawBufferPointer? {
        let conn = connection.connection
        var deadline: ContinuousClock.Instant?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &buffer, 1)
            if length > 0, let buffer {
                lowWaterWait = Self.shortestWait
                return UnsafeMutableRawBufferPointer(start: buffer, count: Int(length))
            }
            if length == -1 { throw streamEnded() }
            if length == -2 {
                throw PostgresError(.replication, message: String(cString: PQerrorMessage(conn)))
            }
            // Nothing buffered. Wait for the socket, then read whatever it holds: in
            // non-blocking mode libpq reads only in PQconsumeInput, and the socket may hold
            // less than the low-water mark, which poll does not report. Always read once,
            // even with no time left, or a zero timeout would never make progress.
            let now = ContinuousClock.now
            if let deadline, now >= deadline { return nil }
            let end = deadline ?? now + timeout
            deadline = end
            let wait = max(.zero, min(end - now, lowWaterWait))
            lowWaterWait = min(lowWaterWait * 2, Self.longestWait)
            var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, Int32(clamping: wait.wholeMilliseconds)) < 0 && errno != EINTR {
                throw PostgresError(.replication, message: "poll failed on the replication socket (errno \(errno))")
            }
            if PQconsumeInput(conn) == 0 {
                throw PostgresError(.replication, message: String(cString: PQerrorMessage(conn)))
            }
        }
    }

    /// Sends a standby status update and flushes it to the socket.
    public func send(_ status: StandbyStatusUpdate) throws(PostgresError) {
        let conn = connection.connection
        let bytes = status.encoded
        let queued = bytes.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        }
        guard queued == 1 else {
            throw PostgresError(
                .replication,
                message: "could not send a status update: " + String(cString: PQerrorMessage(conn))
            )
        }
        var flushed = PQflush(conn)
        let deadline = ContinuousClock.now + .seconds(30)
        while flushed == 1 {
            guard ContinuousClock.now < deadline else {
                throw PostgresError(.replication, message: "could not send a status update for 30 seconds")
            }
            var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, 1000)
            flushed = PQflush(conn)
        }
        if flushed == -1 {
            throw PostgresError(
                .replication,
                message: "could not flush a status update: " + String(cString: PQerrorMessage(conn))
            )
        }
    }

    /// Ends COPY politely (CopyDone), so the server logs a clean disconnect. Errors are
    /// ignored: the connection is being closed anyway.
    public func finish() {
        guard streaming else { return }
        streaming = false
        _ = PQputCopyEnd(connection.connection, nil)
        _ = PQflush(connection.connection)
    }

    private func streamEnded() -> PostgresError {
        streaming = false
        var lastError: PostgresError?
        var remainingResults = 16
        while remainingResults > 0, let result = PQgetResult(connection.connection) {
            remainingResults -= 1
            let status = PQresultStatus(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
                // The server ended its side of COPY; end ours so libpq can finish the command.
                PQclear(result)
                _ = PQputCopyEnd(connection.connection, nil)
                _ = PQflush(connection.connection)
                continue
            }
            if status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK {
                let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                lastError = PostgresError(
                    .replication,
                    message: String(cString: PQresultErrorMessage(result)),
                    sqlState: sqlState
                )
            }
            PQclear(result)
        }
        return lastError ?? PostgresError(.replication, message: "the server ended the replication stream")
    }
}

extension Duration {
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
