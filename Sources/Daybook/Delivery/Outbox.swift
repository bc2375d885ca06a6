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
        let settings = DaybookJSON.text(["url": destination.url, "secret_file": destination.secretFile])
        let inserted = try DaybookError.mapping(role: .sink) {
            try sink.query(
                """
                INSERT INTO daybook.destinations (name, kind, slot_name, only_unusual, settings)
                VALUES ($1, $2, $3, $4::boolean, $5::jsonb) ON CONFLICT (name) DO NOTHING
                """,
                [
                    destination.name, destination.kind.rawValue, destination.slot,
                    destination.onlyUnusual ? "true" : "false", settings,
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

    /// Every destination with how its deliveries stand.
    public static func list(on sink: PostgresConnection) throws(DaybookError) -> [DestinationStatus] {
        try DaybookError.mapping(role: .sink) {
            try sink.query(
                """
                SELECT d.name, d.kind, d.slot_name, d.only_unusual, d.settings ->> 'url', d.settings ->> 'secret_file',
                       (SELECT count(*) FROM daybook.deliveries x WHERE x.destination = d.name AND x.status = 'pending'),
                       (SELECT count(*) FROM daybook.deliveries x WHERE x.destination = d.name AND x.status = 'failed'),
                       (SELECT to_char(max(x.window_start), '\(Report.windowFormat)') FROM daybook.deliveries x
                         WHERE x.destination = d.name AND x.status = 'delivered'),
                       (SELECT to_char(max(x.delivered_at), '\(Report.windowFormat)') FROM daybook.deliveries x
                         WHERE x.destination = d.name AND x.status = 'delivered'),
                       (SELECT x.last_error FROM daybook.deliveries x
                         WHERE x.destination = d.name AND x.last_error IS NOT NULL AND x.status <> 'delivered'
                         ORDER BY x.window_start DESC LIMIT 1)
                  FROM daybook.destinations d ORDER BY d.name
                """
            ).rows.map { row in
                DestinationStatus(
                    destination: Destination(
                        name: row[0] ?? "",
                        kind: Destination.Kind(rawValue: row[1] ?? "") ?? .webhook,
                        slot: row[2],
                        onlyUnusual: row[3] == "t",
                        url: row[4] ?? "",
                        secretFile: row[5] ?? ""
                    ),
                    pending: row[6].flatMap { Int($0) } ?? 0,
                    failed: row[7].flatMap { Int($0) } ?? 0,
                    lastDeliveredWindow: row[8],
                    lastDeliveredAt: row[9],
                    lastError: row[10]
                )
            }
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
        /// The stable id every attempt carries (`Idempotency-Key`), so that a receiver knows a
        /// repeat: the slot, the window's start (UTC) and the destination.
        public func deliveryID(destination: String) -> String {
            "\(slot)/\(windowStart.iso8601(in: TimeZone(identifier: "UTC")!))/\(destination)"
        }
    }

    /// Starts one destination's turn: a transaction holding the destination's advisory lock,
    /// so that of the senders that may run (`run`, `serve`, `notify send`) one at a time
    /// sends to it, in order. Returns false (nothing started) when another sender has it.
    public static func beginTurn(_ destination: String, on sink: PostgresConnection) throws(DaybookError) -> Bool {
        try DaybookError.mapping(role: .sink) {
            try sink.simpleQuery("BEGIN")
            let locked = try sink.query(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('daybook.delivery:' || $1, 0))",
                [destination]
            ).scalar
            if locked != "t" { try sink.simpleQuery("ROLLBACK") }
            return locked == "t"
        }
    }

    /// Ends the turn (commits what was recorded; releases the lock).
    public static func endTurn(on sink: PostgresConnection) throws(DaybookError) {
        try DaybookError.mapping(role: .sink) { _ = try sink.simpleQuery("COMMIT") }
    }

    /// The destination's oldest pending delivery: days go out in order, so a later one waits
    /// while an earlier one is retried.
    public static func oldestPending(
        _ destination: String,
        on sink: PostgresConnection
    ) throws(DaybookError) -> Pending? {
        try DaybookError.mapping(role: .sink) {
            guard
                let row = try sink.query(
                    """
                    SELECT id, slot_name, daybook.to_micros(window_start), attempts, next_attempt_at <= now()
                      FROM daybook.deliveries WHERE destination = $1 AND status = 'pending'
                     ORDER BY window_start, slot_name LIMIT 1 FOR UPDATE
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

    /// Records an attempt and what follows from it.
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
            _ = try sink.query(
                "INSERT INTO daybook.delivery_attempts (delivery, outcome, status_code, error) VALUES ($1, $2, $3::integer, $4)",
                [String(delivery.id), outcome, statusCode.map(String.init), error]
            )
            _ = try sink.query(
                """
                UPDATE daybook.deliveries
                   SET status = $2, attempts = attempts + 1, last_error = $3,
                       next_attempt_at = now() + make_interval(secs => $4::float8),
                       delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
                 WHERE id = $1
                """,
                [
                    String(delivery.id), status, error,
                    String(delay.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0),
                ]
            )
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
