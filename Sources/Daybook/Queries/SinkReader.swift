import DaybookCore
import PostgresReplication

/// The query layer as the long-running front ends use it: the API, the dashboard, and
/// `serve`'s metrics, readiness and lag sampler read through here, over a small pool of
/// connections to the sink (schema checked when each is opened) and, when given, to the
/// source, so that they hold no connection, run no SQL and import no libpq of their own.
///
/// Every call blocks (libpq): run it on a thread that may block, such as NIO's thread pool.
public final class SinkReader: Sendable {
    /// The slot whose results are read.
    public var slot: String { status.slot }
    private let status: StatusReport
    private let sink: ConnectionPool
    private let source: ConnectionPool?

    public init(sink: ConnectionString, source: ConnectionString?, status: StatusReport) {
        self.status = status
        self.sink = ConnectionPool(sink, role: .sink) { connection throws(DaybookError) in
            try Migrator.requireCurrent(connection)
        }
        self.source = source.map { ConnectionPool($0, role: .source) }
    }

    /// Runs `body` with one sink connection for several reads that belong together (a page
    /// and the check that its window exists). The session must not outlive `body`.
    public func read<T>(_ body: (Session) throws -> T) throws -> T {
        try sink.withConnection { connection in try body(Session(reader: self, sink: connection)) }
    }

    /// The sink's figures for the slot (nil before its first checkpoint), for metrics and
    /// readiness.
    public func figures() throws -> SinkFigures? {
        try read { try $0.figures() }
    }

    /// One sample of the slot's lag for the dashboard's chart: the source's clock, the WAL it
    /// has not been told is processed, and how far stream time trails the clock while WAL waits.
    /// Nil when the source has no such slot.
    public func lagSample() throws -> LagHistory.Sample? {
        guard let source else { return nil }
        guard let position = try source.withConnection({ try SlotLag.read($0, slot: slot) }) else { return nil }
        let streamTime = try figures()?.streamTime
        return LagHistory.Sample(
            time: position.clock,
            bytes: position.bytes,
            seconds: position.bytes > 0 ? max(0, position.clock - (streamTime ?? position.clock)) : 0
        )
    }

    /// One sink connection, lent for the length of a ``SinkReader/read(_:)`` call.
    public struct Session {
        let reader: SinkReader
        let sink: PostgresConnection

        /// A report, exactly as `daybook report` fetches it (``Report/fetch(_:from:)``).
        public func report(_ request: Report.Request) throws(DaybookError) -> Report.Output {
            try Report.fetch(request, from: sink)
        }

        /// The morning digest, exactly as `daybook digest` builds it (``DigestQuery/fetch(_:from:)``).
        public func digest(_ request: DigestQuery.Request) throws(DaybookError) -> Digest {
            try DigestQuery.fetch(request, from: sink)
        }

        /// Whether the slot has a window starting at `start` (any state).
        public func windowExists(start: String) throws(DaybookError) -> Bool {
            try DaybookError.mapping(role: .sink) {
                try sink.query(
                    "SELECT 1 FROM daybook.windows WHERE slot_name = $1 AND window_start = $2::timestamptz",
                    [reader.slot, start]
                ).rows.count > 0
            }
        }

        /// The status, as `daybook status --format json` collects it; the source's part
        /// included when the reader has a source and it answers.
        public func status() throws -> Status {
            let notAsked = DaybookError(.configuration, "not asked (serve without a source)")
            guard let source = reader.source else {
                return try reader.status.collect(source: .failure(notAsked), sink: sink)
            }
            return try source.withConnectionIfAvailable { connection in
                try reader.status.collect(source: connection, sink: sink)
            }
        }

        /// Every destination and how its deliveries stand, for the metrics.
        public func destinations() throws(DaybookError) -> [DestinationStatus] {
            try Outbox.list(on: sink)
        }

        /// The slot's figures (nil before its first checkpoint).
        public func figures() throws(DaybookError) -> SinkFigures? {
            try SinkFigures.read(sink, slot: reader.slot)
        }
    }
}
