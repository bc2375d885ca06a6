import ArgumentParser
import Daybook
import DaybookCore
import DaybookDelivery
import Foundation
import Logging

struct NotifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Deliver each closed day's digest to webhooks: add, list and remove destinations; send.",
        discussion: """
            A destination receives the digest of every day that closes after it was added (of --slot, or of every \
            slot with --all-slots; only days with something unusual with --only-unusual): an HTTP POST of the \
            digest's JSON with a plain `text` summary (Slack and Mattermost show it as it is), signed with \
            X-Daybook-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body"> under the destination's secret, \
            and carrying Idempotency-Key (the same on every attempt of the day). The day's delivery is written in \
            the sink transaction that closes it, so none is missed; `daybook notify send` delivers what is due \
            (from cron, every few minutes), oldest first, retrying with exponential backoff (README, "Delivered \
            when the day closes").
            """,
        subcommands: [Add.self, List.self, Remove.self, Send.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a webhook destination.",
            discussion: """
                The secret file holds at least 32 bytes (openssl rand -hex 32 > FILE), readable by the user \
                daybook runs as; it is read at each delivery, so replacing it rotates the secret, and it never \
                enters the sink. The URL must be https unless its host is on loopback.
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The destination's name: lower-case letters, digits, '-' and '_'.")
        var name: String

        @Option(name: .long, help: ArgumentHelp("The URL to POST each day's digest to.", valueName: "url"))
        var webhook: String

        @Option(name: .long, help: ArgumentHelp("The file holding the signing secret.", valueName: "file"))
        var secretFile: String

        @Flag(name: .long, help: "The days of every slot writing to this sink, not only --slot's.")
        var allSlots = false

        @Flag(
            name: .long,
            help: "Only days with a TRUNCATE, a mass delete, an unusual or silent table or a schema change."
        )
        var onlyUnusual = false

        func validate() throws {
            guard name.range(of: "^[a-z0-9][a-z0-9_-]{0,62}$", options: .regularExpression) != nil else {
                throw ValidationError(
                    "'\(name)' is not a destination name: use lower-case letters, digits, '-' and '_'"
                )
            }
            guard let url = URL(string: webhook), let scheme = url.scheme?.lowercased(), let host = url.host else {
                throw ValidationError("'\(webhook)' is not a URL: give one such as https://hooks.example.com/daybook")
            }
            let loopback = ["127.0.0.1", "::1", "localhost"].contains(host.lowercased())
            guard scheme == "https" || (scheme == "http" && loopback) else {
                throw ValidationError(
                    "the webhook must use https (http only on loopback): the digest and its signature would travel in the clear"
                )
            }
        }

        func run() throws {
            try reportingErrors {
                _ = try Destination.readSecret(secretFile)
                let sink = try connect(connection.sinkConnection, role: .sink)
                try Migrator.requireCurrent(sink)
                let destination = Destination(
                    name: name,
                    kind: .webhook,
                    slot: allSlots ? nil : connection.slot,
                    onlyUnusual: onlyUnusual,
                    url: webhook,
                    secretFile: URL(fileURLWithPath: secretFile).standardizedFileURL.path
                )
                try Outbox.add(destination, on: sink)
                print(
                    "added \(name): the digest of each day of \(allSlots ? "every slot" : "slot \(connection.slot)") that closes "
                        + "from now on\(onlyUnusual ? " with something unusual" : ""); deliver with daybook notify send"
                )
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List destinations and how their deliveries stand.")

        @OptionGroup var connection: ConnectionOptions

        @Option(name: .long, help: "Output format: text or json.")
        var format: String = "text"

        func validate() throws {
            guard ["text", "json"].contains(format) else { throw ValidationError("--format is text or json") }
        }

        func run() throws {
            try reportingErrors {
                let sink = try connect(connection.sinkConnection, role: .sink)
                try Migrator.requireCurrent(sink)
                let destinations = try Outbox.list(on: sink)
                if format == "json" {
                    print(DaybookJSON.text(destinations))
                    return
                }
                if destinations.isEmpty {
                    print("no destinations (daybook notify add NAME --webhook URL --secret-file FILE)")
                }
                for status in destinations {
                    let destination = status.destination
                    print(
                        "\(destination.name)  webhook \(Self.shown(destination.url))  \(destination.slot.map { "slot \($0)" } ?? "every slot")"
                            + (destination.onlyUnusual ? "  only unusual days" : "")
                    )
                    print(
                        "  last delivered: \(status.lastDeliveredWindow ?? "none yet")\(status.lastDeliveredAt.map { " (at \($0))" } ?? "");"
                            + " pending: \(status.pending); failed: \(status.failed)"
                            + (status.lastError.map { "; last error: \($0)" } ?? "")
                    )
                }
            }
        }

        /// The URL without its path: a chat webhook's path is its secret.
        static func shown(_ url: String) -> String {
            guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host else { return "?" }
            return "\(scheme)://\(host)\(parsed.port.map { ":\($0)" } ?? "")/…"
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a destination and its pending deliveries.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The destination's name.")
        var name: String

        func run() throws {
            try reportingErrors {
                let sink = try connect(connection.sinkConnection, role: .sink)
                try Migrator.requireCurrent(sink)
                try Outbox.remove(name, on: sink)
                print("removed \(name)")
            }
        }
    }

    struct Send: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver what is due, once (for cron), and say what happened.",
            discussion: """
                Safe to run beside another sender: one at a time sends to a destination (an advisory lock in the \
                sink). A failed attempt is tried again after --retry-base, doubling up to an hour, 12 attempts in \
                all (3 for a 4xx other than 408 and 429); a delivery given up stays listed by `notify list`. Exit 0 \
                unless the sink cannot be reached; failed deliveries are reported on stderr.
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Option(name: .long, help: "The wait before the first retry (doubling after each).")
        var retryBase: String = "30s"

        @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.")
        var logLevel: String = "warning"

        @Flag(name: .long, help: "No summary line (for cron: only failures, on stderr, are mailed).")
        var quiet = false

        func run() throws {
            try reportingErrors {
                try bootstrapLogging(level: logLevel)
                var policy = DeliveryPolicy()
                do { policy.base = try DurationText.duration(retryBase) } catch {
                    throw DaybookError(.invalidArgument, "--retry-base: \(error)")
                }
                let sender = OutboxSender(
                    sink: connection.sinkConnection,
                    policy: policy,
                    logger: Logger(label: "daybook.notify")
                )
                let summary = try sender.sendDue()
                if quiet { return }
                print(
                    "delivered \(summary.delivered), retrying \(summary.retrying), failed \(summary.failed), "
                        + "skipped \(summary.skipped), waiting \(summary.waiting)"
                )
            }
        }
    }
}
