import DaybookCore
import PostgresReplication
import WAL

/// What the sink alone tells about a slot's stream: its checkpoint, stream time, last
/// heartbeat and windows per state. `daybook serve` reports these as metrics; a machine that
/// only looks has no stream of its own to count.
public struct SinkFigures: Sendable, Equatable {
    public var checkpointLSN: LSN
    public var streamTime: Double?
    public var lastHeartbeat: Double?
    public var openWindows: Int
    public var closingWindows: Int
    /// Closed windows per `closed_by` (data, heartbeat, startup, idle).
    public var closedWindows: [String: Int]
    /// Gaps recorded for the slot (``Gap``).
    public var gaps: Int
    /// When the oldest open window closes (stream time, Unix seconds), if any is open.
    public var oldestOpenWindowClosesAt: Double?

    static let query = """
        SELECT c.lsn::text, extract(epoch FROM c.stream_time)::float8::text,
               extract(epoch FROM c.last_heartbeat_at)::float8::text,
               count(*) FILTER (WHERE w.status = 'open'), count(*) FILTER (WHERE w.status = 'closing'),
               count(*) FILTER (WHERE w.status = 'closed' AND w.closed_by = 'data'),
               count(*) FILTER (WHERE w.status = 'closed' AND w.closed_by = 'heartbeat'),
               count(*) FILTER (WHERE w.status = 'closed' AND w.closed_by = 'startup'),
               count(*) FILTER (WHERE w.status = 'closed' AND w.closed_by = 'idle'),
               (SELECT count(*) FROM daybook.gaps g WHERE g.slot_name = c.slot_name),
               extract(epoch FROM min(w.closes_at) FILTER (WHERE w.status = 'open'))::float8::text
          FROM daybook.checkpoint c
          LEFT JOIN daybook.windows w ON w.slot_name = c.slot_name
         WHERE c.slot_name = $1
         GROUP BY c.slot_name, c.lsn, c.stream_time, c.last_heartbeat_at
        """

    /// The slot's figures, or nil when the sink has no checkpoint for it yet.
    public static func read(_ sink: PostgresConnection, slot: String) throws(DaybookError) -> SinkFigures? {
        let row: [String?]
        do {
            guard let first = try sink.query(query, [slot]).rows.first else { return nil }
            row = first
        } catch {
            throw DaybookError.from(error, role: .sink)
        }
        func count(_ index: Int) -> Int { row[index].flatMap { Int($0) } ?? 0 }
        return SinkFigures(
            checkpointLSN: row[0].flatMap(LSN.init) ?? 0,
            streamTime: row[1].flatMap { Double($0) },
            lastHeartbeat: row[2].flatMap { Double($0) },
            openWindows: count(3),
            closingWindows: count(4),
            closedWindows: ["data": count(5), "heartbeat": count(6), "startup": count(7), "idle": count(8)],
            gaps: count(9),
            oldestOpenWindowClosesAt: row[10].flatMap { Double($0) }
        )
    }
}
