import AsyncHTTPClient
import Daybook
import DaybookCore
import Foundation
import Logging
import PostgresReplication
import Windowing

/// Empties the sink's outbox: each destination's pending days, oldest first, one attempt at a
/// time, each recorded (``Outbox``) with what ``DeliveryPolicy`` decides.
///
/// Any number of senders may run at once (`run`, `serve`, `daybook notify send` from cron):
/// a destination's turn holds its advisory lock, so one of them sends to it, and in order. A
/// destination that keeps failing waits for its backoff without holding up the others, and a
/// failure here never reaches the stream: a sender has its own sink connection.
public struct OutboxSender: Sendable {
    let sink: ConnectionString
    let policy: DeliveryPolicy
    let logger: Logger
    let webhook: WebhookSender

    public init(sink: ConnectionString, policy: DeliveryPolicy = DeliveryPolicy(), logger: Logger) {
        self.sink = sink
        self.policy = policy
        self.logger = logger
        self.webhook = WebhookSender(client: .shared)
    }

    /// What one pass did.
    public struct Summary: Sendable, Equatable {
        public var delivered = 0
        public var retrying = 0
        public var failed = 0
        public var skipped = 0
        /// Deliveries whose next attempt is not due yet, or whose destination another sender has.
        public var waiting = 0
    }

    /// One pass over every destination: sends what is due, until nothing more is. Blocking
    /// (libpq, and the HTTP request waited for): run it on a thread that may block.
    public func sendDue() throws(DaybookError) -> Summary {
        let connection = try PostgresConnection.open(sink, role: .sink)
        try Migrator.requireCurrent(connection)
        var summary = Summary()
        for status in try Outbox.list(on: connection) {
            try turn(status.destination, connection, &summary)
        }
        return summary
    }

    /// Sends to one destination while its oldest pending day is due.
    private func turn(
        _ destination: Destination,
        _ connection: PostgresConnection,
        _ summary: inout Summary
    ) throws(DaybookError) {
        while true {
            guard try Outbox.beginTurn(destination.name, on: connection) else {
                summary.waiting += 1
                return
            }
            guard let pending = try Outbox.oldestPending(destination.name, on: connection) else {
                try Outbox.endTurn(on: connection)
                return
            }
            guard pending.isDue else {
                try Outbox.endTurn(on: connection)
                summary.waiting += 1
                return
            }
            try deliver(pending, to: destination, connection, &summary)
            try Outbox.endTurn(on: connection)
        }
    }

    private func deliver(
        _ pending: Outbox.Pending,
        to destination: Destination,
        _ connection: PostgresConnection,
        _ summary: inout Summary
    ) throws(DaybookError) {
        let id = pending.deliveryID(destination: destination.name)
        let attempt = pending.attempts + 1
        let digest: Digest
        do {
            var request = DigestQuery.Request()
            request.slot = pending.slot
            request.moment = pending.windowStart.iso8601(in: TimeZone(identifier: "UTC")!)
            digest = try DigestQuery.fetch(request, from: connection)
        } catch {
            try record(
                pending,
                destination,
                .noAnswer,
                attempt,
                nil,
                "the digest could not be made: \(error.message)",
                connection,
                &summary
            )
            return
        }
        if destination.onlyUnusual && !Destination.hasNews(digest) {
            try Outbox.skip(pending, on: connection)
            summary.skipped += 1
            return
        }
        let secret: [UInt8]
        do { secret = try Destination.readSecret(destination.secretFile) } catch {
            try record(pending, destination, .noAnswer, attempt, nil, error.message, connection, &summary)
            return
        }
        let result = webhook.send(
            body: WebhookPayload.body(digest),
            to: destination.url,
            secret: secret,
            deliveryID: id
        )
        try record(pending, destination, result.attempt, attempt, result.statusCode, result.error, connection, &summary)
    }

    private func record(
        _ pending: Outbox.Pending,
        _ destination: Destination,
        _ outcome: DeliveryPolicy.Attempt,
        _ attempt: Int,
        _ statusCode: Int?,
        _ error: String?,
        _ connection: PostgresConnection,
        _ summary: inout Summary
    ) throws(DaybookError) {
        let decision = policy.decide(after: outcome, attempt: attempt)
        try Outbox.record(pending, decision: decision, statusCode: statusCode, error: error, on: connection)
        let metadata: Logger.Metadata = [
            "daybook.destination": "\(destination.name)",
            "daybook.delivery": "\(pending.deliveryID(destination: destination.name))",
            "daybook.attempt": "\(attempt)",
        ]
        switch decision {
        case .delivered:
            summary.delivered += 1
            logger.info("delivered", metadata: metadata)
        case .retry(let after):
            summary.retrying += 1
            logger.warning(
                "delivery failed; trying again in \(DurationText.format(seconds: after.components.seconds))",
                metadata: metadata.merging(["daybook.error": "\(error ?? "?")"]) { $1 }
            )
        case .giveUp:
            summary.failed += 1
            logger.error(
                "delivery failed for good after \(attempt) attempts; it stays listed by daybook notify list",
                metadata: metadata.merging(["daybook.error": "\(error ?? "?")"]) { $1 }
            )
        }
    }
}
