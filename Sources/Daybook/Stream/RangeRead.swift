import DaybookCore
import PostgresReplication
import WAL

/// What one read of a backlog range gave.
enum RangeRead: Sendable {
    /// The range's messages.
    case range(DecodedRange)
    /// Backlog mode is not possible for this range (a server limit, a full disk): the
    /// replication stream reads the rest.
    case unavailable(reason: String)
    /// The read was given up for a stop request before it ended.
    case stopped
}

extension SQLDecodingReader {
    /// Reads the range up to `end` whole into a ``DecodedRange``, before any of it is processed:
    /// the connection is then free again, for the next read or the catalog's queries.
    ///
    /// `shouldStop` is asked once a second while the server decodes and every 16,384 messages
    /// after: when it says yes, the read is abandoned (the connection is then unusable) and
    /// the result is ``RangeRead/stopped``. `alive` is called once a second while the server
    /// decodes, so that the service shows it is working.
    func collect(upTo end: LSN, shouldStop: () -> Bool, alive: () -> Void) throws(DaybookError) -> RangeRead {
        struct Stopped: Error {}
        let range = DecodedRange(end: end)
        let idle = {
            alive()
            if shouldStop() { throw Stopped() }
        }
        do {
            try read(upTo: end, idle: idle) { lsn, payload in
                try range.append(lsn: lsn, payload: payload)
                if range.messages & 0x3FFF == 0, shouldStop() { throw Stopped() }
            }
            if reading == .consume { range.restart = try restartPosition() }
            return .range(range)
        } catch is Stopped {
            return .stopped
        } catch let error as DaybookError {
            if error.code == .localFile { return .unavailable(reason: error.message) }
            throw error
        } catch let error as PostgresError {
            // The limits that end backlog mode strike while the server decodes, before any row.
            if range.messages == 0,
                let reason = BacklogPlan.fallbackReason(sqlState: error.sqlState, message: error.message)
            {
                return .unavailable(reason: reason)
            }
            throw DaybookError.from(error, role: .source)
        } catch {
            throw DaybookError(.query, "reading a range of the backlog: \(error)")
        }
    }
}
