import CLibPQ

/// Cancels whatever statement a connection runs, from another thread or a signal handler:
/// libpq's cancel request, which opens a short connection of its own to the server.
///
/// Made before the statement starts (``PostgresConnection/makeCanceller()``), so that a
/// command interrupted by SIGINT or SIGTERM can stop its statement on the server instead of
/// leaving it running there after the process is gone.
public final class StatementCanceller: @unchecked Sendable {
    // @unchecked Sendable, and safe: libpq documents PQcancel as safe to call from any thread
    // (and from a signal handler) on a PGcancel made beforehand; the pointer is immutable and
    // freed only in deinit, when no one can call cancel() any more.
    private let cancel: OpaquePointer

    init?(connection: OpaquePointer) {
        guard let cancel = PQgetCancel(connection) else { return nil }
        self.cancel = cancel
    }

    deinit { PQfreeCancel(cancel) }

    /// Asks the server to cancel the statement in progress, best effort: a statement that
    /// has just ended is not affected, and a server that cannot be reached is not an error.
    public func cancelStatement() {
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &message, Int32(message.count))
    }
}

extension PostgresConnection {
    /// A canceller for this connection's statements, usable from any thread; nil when libpq
    /// cannot make one (a connection that is not open).
    public func makeCanceller() -> StatementCanceller? {
        StatementCanceller(connection: connection)
    }
}
