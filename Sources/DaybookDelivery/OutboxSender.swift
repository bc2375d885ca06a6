import AsyncHTTPClient
import Daybook
import DaybookCore
import Foundation
import Logging
import PostgresReplication
import Windowing

/// Empties the sink's outbox: each destination's pending days, in the order they closed, one
/// attempt at a time, each recorded (``Outbox``) with what ``DeliveryPolicy`` decides.
///
/// Any number of senders may run at once (`run`, `serve`, `daybook notify send` from cron):
/// a destination's turn holds its advisory lock, so one of them sends to it, and in order.
/// Destinations take turns one delivery at a time, so a slow one delays the others by one
/// attempt at most; one that keeps failing waits for its backoff, and its errors (the sink's
/// too) end its turn, not the pass. No transaction is open while a request travels: the
/// receiver's answer is recorded in a short transaction of its own. A failure here never
/// reaches the stream: a sender has its own sink connection.
public struct OutboxSender: Sendable {
    let sink: ConnectionString
    let policy: DeliveryPolicy
    let logger: Logger
    let webhook: WebhookSender
    let email = EmailSender()

    public init(sink: ConnectionString, policy: DeliveryPolicy = DeliveryPolicy(), logger: Logger) {
        self.sink = sink
        self.policy = policy
        self.logger = logger
        self.webhook = WebhookSender(client: WebhookSender.client)
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

    /// One pass over every destination: sends what is due, until nothing more is or
    /// `shouldStop` says so (checked before each attempt, so that shutdown waits for one
    /// attempt, not a backlog). Blocking (libpq, and the request waited for): run it on a
    /// thread that may block. Throws when the sink cannot be reached at all.
    public func sendDue(shouldStop: () -> Bool = { false }) throws(DaybookError) -> Summary {
        let connection = try PostgresConnection.open(sink, role: .sink)
        try Migrator.requireCurrent(connection)
        var summary = Summary()
        var active = try Outbox.destinations(on: connection).map(\.name)
        // Rounds of one delivery per destination, until every destination is done for now.
        while !active.isEmpty && !shouldStop() {
            active = active.filter { name in
                guard !shouldStop() else { return false }
                do throws(DaybookError) {
                    return try sendOne(to: name, connection, &summary)
                } catch {
                    logger.warning(
                        "deliveries to \(name) wait: \(error.message)",
                        metadata: ["daybook.destination": "\(name)"]
                    )
                    return false
                }
            }
        }
        return summary
    }

    /// One attempt at the destination's oldest pending day, if one is due and no other sender
    /// has the destination. Returns whether it may have more to send now.
    private func sendOne(
        to name: String,
        _ connection: PostgresConnection,
        _ summary: inout Summary
    )
        throws(DaybookError) -> Bool
    {
        guard try Outbox.lock(name, on: connection) else {
            summary.waiting += 1
            return false
        }
        defer { try? Outbox.unlock(name, on: connection) }
        // Read under the lock: a destination removed or changed since the pass began.
        guard let destination = try Outbox.destinations(on: connection).first(where: { $0.name == name }),
            let pending = try Outbox.oldestPending(name, on: connection)
        else { return false }
        guard pending.isDue else {
            summary.waiting += 1
            return false
        }
        try deliver(pending, to: destination, connection, &summary)
        return true
    }

    /// Whether email can be sent from this machine (msmtp is installed), for `notify add`.
    public static var canSendEmail: Bool { EmailSender().isInstalled }

    /// What `daybook notify test` did.
    public struct TestResult: Sendable {
        /// Whether the receiver accepted it.
        public var accepted: Bool
        /// The receiver's answer or why there was none.
        public var detail: String
        /// The id it carried, its own (a test never stands in for a day's delivery).
        public var deliveryID: String
    }

    /// Sends the latest closed day's digest to destination `name` now, recording nothing:
    /// to see that a new destination works (or why not) without waiting for a day to close.
    public func test(_ name: String, now: Date = Date()) throws(DaybookError) -> TestResult {
        let connection = try PostgresConnection.open(sink, role: .sink)
        try Migrator.requireCurrent(connection)
        let destination = try Outbox.destination(name, on: connection)
        guard let latest = try Outbox.latestClosedWindow(slot: destination.slot, on: connection) else {
            throw DaybookError(
                .notFound,
                "no day has closed yet\(destination.slot.map { " for slot \($0)" } ?? ""): a test sends the latest closed day's digest; try again once one has closed (daybook status shows when)"
            )
        }
        let digest = try Self.digest(slot: latest.slot, windowStart: latest.start, on: connection)
        let id = DeliveryID(
            slot: latest.slot,
            windowStart: latest.start,
            destination: "\(name)-test-\(Int64(now.timeIntervalSince1970))"
        )
        let result = send(digest, to: destination, id: id)
        let accepted = policy.decide(after: result.attempt, attempt: 1) == .delivered
        let detail =
            accepted
            ? (result.statusCode.map { destination.kind == .webhook ? "HTTP \($0)" : "accepted" } ?? "accepted")
            : (result.error ?? "not accepted")
        return TestResult(accepted: accepted, detail: detail, deliveryID: id.description)
    }

    private func deliver(
        _ pending: Outbox.Pending,
        to destination: Destination,
        _ connection: PostgresConnection,
        _ summary: inout Summary
    ) throws(DaybookError) {
        let attempt = pending.attempts + 1
        let digest: Digest
        do {
            digest = try Self.digest(slot: pending.slot, windowStart: pending.windowStart, on: connection)
        } catch {
            let result = DeliveryResult(attempt: .noAnswer, error: "the digest could not be made: \(error.message)")
            try record(pending, destination, result, attempt, connection, &summary)
            return
        }
        if destination.onlyUnusual && !Destination.hasNews(digest) {
            try Outbox.skip(pending, on: connection)
            summary.skipped += 1
            return
        }
        let result = send(digest, to: destination, id: pending.deliveryID(destination: destination.name))
        try record(pending, destination, result, attempt, connection, &summary)
    }

    /// The digest of one slot's window, as `daybook digest --at` makes it.
    static func digest(
        slot: String,
        windowStart: Timestamp,
        on connection: PostgresConnection
    ) throws(DaybookError)
        -> Digest
    {
        var request = DigestQuery.Request()
        request.slot = slot
        request.moment = windowStart.iso8601(in: TimeZone(identifier: "UTC")!)
        return try DigestQuery.fetch(request, from: connection)
    }

    /// One attempt to deliver `digest` to `destination`, whatever its kind.
    func send(_ digest: Digest, to destination: Destination, id: DeliveryID) -> DeliveryResult {
        switch destination.endpoint {
        case .webhook(let webhook):
            let secret: [UInt8]
            do { secret = try Destination.readSecret(webhook.secretFile) } catch {
                return DeliveryResult(attempt: .noAnswer, error: error.message)
            }
            return self.webhook.send(
                body: WebhookPayload.body(digest),
                to: webhook.url,
                secret: secret,
                deliveryID: id.description
            )
        case .email(let email):
            if let passwordFile = email.passwordFile {
                do { try Destination.checkPasswordFile(passwordFile) } catch {
                    return DeliveryResult(attempt: .noAnswer, error: error.message)
                }
            }
            let message = EmailMessage(
                digest: digest,
                deliveryID: id,
                from: email.from,
                to: email.to,
                subjectTemplate: email.subject
            )
            return self.email.send(message, via: email)
        }
    }

    private func record(
        _ pending: Outbox.Pending,
        _ destination: Destination,
        _ result: DeliveryResult,
        _ attempt: Int,
        _ connection: PostgresConnection,
        _ summary: inout Summary
    ) throws(DaybookError) {
        let decision = policy.decide(after: result.attempt, attempt: attempt)
        let error = result.error
        try Outbox.record(pending, decision: decision, statusCode: result.statusCode, error: error, on: connection)
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
                "delivery failed; trying again in \(HumanDuration.text(seconds: Double(after.components.seconds)))",
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
