import DaybookCore
import Foundation
import PostgresReplication
import Windowing

/// The sink's side of delivery: destinations, and the outbox of closed days that the window
/// finisher fills (``SinkSQL/finishWindow``) and a sender empties. Blocking (libpq): a sender
/// calls it from a thread that may block.
public enum Outbox {
    /// Adds a destination; it receives the days that close from now on.
    public static func add(_ destination: Destination, on sink: PostgresConnection) throws(DaybookError) {
        let inserted = try DaybookError.mapping(role: .sink) {
            try sink.query(
                """
                INSERT INTO daybook.destinations (name, kind, slot_name, only_unusual, settings)
                VALUES ($1, $2, $3, $4::boolean, $5::jsonb) ON CONFLICT (name) DO NOTHING
                """,
                [
                    destination.name, destination.kind.rawValue, destination.slot,
                    destination.onlyUnusual ? "true" : "false", destination.settingsJSON,
                ]
            ).affectedRows
        }
        guard inserted == 1 else {
            throw DaybookError(
                .invalidArgument,
                "a destination named \(destination.name) exists: remove it first (daybook notify remove \(destination.name))"
            )
        }
    }

    /// Removes a destination and its deliveries, pending ones included.
    public static func remove(_ name: String, on sink: PostgresConnection) throws(DaybookError) {
        let removed = try DaybookError.mapping(role: .sink) {
            try sink.query("DELETE FROM daybook.destinations WHERE name = $1", [name]).affectedRows
        }
        guard removed == 1 else {
            throw DaybookError(.notFound, "no destination named \(name) (daybook notify list shows them)")
        }
    }

    /// Makes a destination's failed deliveries pending again, from their first attempt (after
    /// the destination was fixed); returns how many.
    public static func retryFailed(_ name: String, on sink: PostgresConnection) throws(DaybookError) -> Int {
        _ = try destination(name, on: sink)
        return try DaybookError.mapping(role: .sink) {
            try sink.query(
                """
                UPDATE daybook.deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
                 WHERE destination = $1 AND status = 'failed'
                """,
                [name]
            ).affectedRows
        }
    }

    /// Every destination, as a sender needs it (settings included), by name.
    public static func destinations(on sink: PostgresConnection) throws(DaybookError) -> [Destination] {
        try DaybookError.mapping(role: .sink) {
            try sink.query(
                "SELECT name, kind, slot_name, only_unusual, settings::text FROM daybook.destinations ORDER BY name"
            ).rows.compactMap { row in
                guard let name = row[0], let endpoint = Destination.endpoint(kind: row[1] ?? "", settings: row[4] ?? "")
                else { return nil }
                return Destination(name: name, slot: row[2], onlyUnusual: row[3] == "t", endpoint: endpoint)
            }
        }
    }

    /// The destination named `name`, or a ``DaybookError`` (`.notFound`) that says how to list them.
    public static func destination(_ name: String, on sink: PostgresConnection) throws(DaybookError) -> Destination {
        guard let destination = try destinations(on: sink).first(where: { $0.name == name }) else {
            throw DaybookError(.notFound, "no destination named \(name) (daybook notify list shows them)")
        }
        return destination
    }

    /// Every destination with how its deliveries stand: what `notify list`, `status`, the API,
    /// the dashboard and the metrics show.
    public static func list(on sink: PostgresConnection) throws(DaybookError) -> [DestinationStatus] {
        let destinations = try destinations(on: sink)
        let rows = try DaybookError.mapping(role: .sink) {
            try sink.query(
                """
                SELECT d.name,
                       count(*) FILTER (WHERE x.status = 'pending'), count(*) FILTER (WHERE x.status = 'failed'),
                       count(*) FILTER (WHERE x.status = 'delivered'), count(*) FILTER (WHERE x.status = 'skipped'),
                       to_char(max(x.window_start) FILTER (WHERE x.status = 'delivered'), '\(Report.windowFormat)'),
                       to_char(max(x.delivered_at), '\(Report.windowFormat)'),
                       (SELECT e.last_error FROM daybook.deliveries e
                         WHERE e.destination = d.name AND e.last_error IS NOT NULL AND e.status IN ('pending', 'failed')
                         ORDER BY e.window_start DESC LIMIT 1),
                       to_char(min(x.created_at) FILTER (WHERE x.status = 'pending'), '\(Report.windowFormat)'),
                       extract(epoch FROM now() - min(x.created_at) FILTER (WHERE x.status = 'pending'))::float8::text,
                       (SELECT coalesce(jsonb_object_agg(a.outcome, a.n), '{}')::text
                          FROM (SELECT a.outcome, count(*) AS n FROM daybook.delivery_attempts a
                                  JOIN daybook.deliveries e ON e.id = a.delivery
                                 WHERE e.destination = d.name GROUP BY a.outcome) a)
                  FROM daybook.destinations d LEFT JOIN daybook.deliveries x ON x.destination = d.name
                 GROUP BY d.name ORDER BY d.name
                """
            ).rows
        }
        return destinations.map { destination in
            let row = rows.first { $0[0] == destination.name } ?? []
            func field(_ index: Int) -> String? { index < row.count ? row[index] : nil }
            func count(_ index: Int) -> Int { field(index).flatMap { Int($0) } ?? 0 }
            return DestinationStatus(
                name: destination.name,
                kind: destination.kind,
                target: destination.shownTarget,
                slot: destination.slot,
                onlyUnusual: destination.onlyUnusual,
                pending: count(1),
                failed: count(2),
                delivered: count(3),
                skipped: count(4),
                lastDeliveredWindow: field(5),
                lastDeliveredAt: field(6),
                lastError: field(7),
                oldestPendingSince: field(8),
                oldestPendingAgeSeconds: field(9).flatMap { Double($0) },
                attempts: field(10).flatMap { DaybookJSON.decode([String: Int].self, from: $0) } ?? [:]
            )
        }
    }

    /// The latest closed window of `slot` (nil: of any slot), for `notify test`.
    public static func latestClosedWindow(
        slot: String?,
        on sink: PostgresConnection
    ) throws(DaybookError) -> (slot: String, start: Timestamp)? {
        try DaybookError.mapping(role: .sink) {
            guard
                let row = try sink.query(
                    """
                    SELECT slot_name, daybook.to_micros(window_start) FROM daybook.windows
                     WHERE status = 'closed' AND ($1::text IS NULL OR slot_name = $1)
                     ORDER BY window_start DESC, slot_name LIMIT 1
                    """,
                    [slot]
                ).rows.first, let name = row[0], let start = row[1].flatMap({ Int64($0) })
            else { return nil }
            return (name, Timestamp(microsecondsSinceEpoch: start))
        }
    }

    /// A day waiting to be delivered to a destination.
    public struct Pending: Sendable {
        public var id: Int64
        public var slot: String
        public var windowStart: Timestamp
        public var attempts: Int
        /// Whether its next attempt is due now.
        public var isDue: Bool
        /// The stable id every attempt carries (``DeliveryID``).
        public func deliveryID(destination: String) -> DeliveryID {
            DeliveryID(slot: slot, windowStart: windowStart, destination: destination)
        }
    }

    /// Takes the destination's advisory lock for this session, so that of the senders that may
    /// run (`run`, `serve`, `notify send`) one at a time sends to it, in order. Returns false
    /// when another sender has it. Session-level, not a transaction's: no transaction stays
    /// open while a request travels, and a sender that dies releases it with its connection.
    public static func lock(_ destination: String, on sink: PostgresConnection) throws(DaybookError) -> Bool {
        try DaybookError.mapping(role: .sink) {
            try sink.query(
                "SELECT pg_try_advisory_lock(hashtextextended('daybook.delivery:' || $1, 0))",
                [destination]
            ).scalar == "t"
        }
    }

    /// Releases what ``lock(_:on:)`` took.
    public static func unlock(_ destination: String, on sink: PostgresConnection) throws(DaybookError) {
        try DaybookError.mapping(role: .sink) {
            _ = try sink.query(
                "SELECT pg_advisory_unlock(hashtextextended('daybook.delivery:' || $1, 0))",
                [destination]
            )
        }
    }

    /// The destination's oldest pending delivery, by when its day closed: days go out in that
    /// order, so a later one waits while an earlier one is retried. Read under the
    /// destination's lock (``lock(_:on:)``), which keeps other senders away.
    public static func oldestPending(
        _ destination: String,
        on sink: PostgresConnection
    ) throws(DaybookError) -> Pending? {
        try DaybookError.mapping(role: .sink) {
            guard
                let row = try sink.query(
                    """
                    SELECT id, slot_name, daybook.to_micros(window_start), attempts, next_attempt_at <= clock_timestamp()
                      FROM daybook.deliveries WHERE destination = $1 AND status = 'pending'
                     ORDER BY id LIMIT 1
                    """,
                    [destination]
                ).rows.first,
                let id = row[0].flatMap({ Int64($0) }), let slot = row[1], let start = row[2].flatMap({ Int64($0) })
            else { return nil }
            return Pending(
                id: id,
                slot: slot,
                windowStart: Timestamp(microsecondsSinceEpoch: start),
                attempts: row[3].flatMap { Int($0) } ?? 0,
                isDue: row[4] == "t"
            )
        }
    }

    /// Records an attempt and what follows from it, in one transaction of its own, timed when
    /// the answer came (not when the request left: a slow receiver must not shorten the backoff).
    public static func record(
        _ delivery: Pending,
        decision: DeliveryPolicy.Decision,
        statusCode: Int?,
        error: String?,
        on sink: PostgresConnection
    ) throws(DaybookError) {
        let (status, outcome, delay): (String, String, Duration?) =
            switch decision {
            case .delivered: ("delivered", "delivered", nil)
            case .retry(let after): ("pending", "retry", after)
            case .giveUp: ("failed", "failed", nil)
            }
        try DaybookError.mapping(role: .sink) {
            try sink.simpleQuery("BEGIN")
            do {
                _ = try sink.query(
                    """
                    INSERT INTO daybook.delivery_attempts (delivery, attempted_at, outcome, status_code, error)
                    VALUES ($1, clock_timestamp(), $2, $3::integer, $4)
                    """,
                    [String(delivery.id), outcome, statusCode.map(String.init), error]
                )
                _ = try sink.query(
                    """
                    UPDATE daybook.deliveries
                       SET status = $2, attempts = attempts + 1, last_error = $3,
                           next_attempt_at = clock_timestamp() + make_interval(secs => $4::float8),
                           delivered_at = CASE WHEN $2 = 'delivered' THEN clock_timestamp() END
                     WHERE id = $1
                    """,
                    [
                        String(delivery.id), status, error,
                        String(
                            delay.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
                        ),
                    ]
                )
                try sink.simpleQuery("COMMIT")
            } catch {
                _ = try? sink.simpleQuery("ROLLBACK")
                throw error
            }
        }
    }

    /// Marks a delivery skipped: its destination wants only days with news and it had none.
    public static func skip(_ delivery: Pending, on sink: PostgresConnection) throws(DaybookError) {
        try DaybookError.mapping(role: .sink) {
            _ = try sink.query(
                "UPDATE daybook.deliveries SET status = 'skipped', last_error = NULL WHERE id = $1",
                [String(delivery.id)]
            )
        }
    }
}
