import ArgumentParser
import Daybook
import DaybookCore
import DaybookDelivery
import Foundation
import Logging

extension Destination.Email.Security: ExpressibleByArgument {}

struct NotifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract:
            "Deliver each closed day's digest by webhook or email: add, list, test and remove destinations; send.",
        discussion: """
            A destination receives the digest of every day that closes after it was added (of --slot, or of every \
            slot with --all-slots; only days with something unusual with --only-unusual). A webhook gets an HTTP \
            POST of the digest's JSON with a plain `text` summary (Slack and Mattermost show it as it is), signed \
            with X-Daybook-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body"> and carrying \
            Idempotency-Key; an email is the digest as text and HTML, sent through msmtp, with a Message-ID made \
            of the same id. The day's delivery is written in the sink transaction that closes it, so none is \
            missed. `daybook run` sends them (and `serve --deliver`); `daybook notify send` does it from cron. \
            Oldest first, retried with exponential backoff (README, "Delivered when the day closes").
            """,
        subcommands: [Add.self, List.self, Test.self, Send.self, Retry.self, Remove.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a destination: a webhook (--webhook) or an email (--email, through --smtp).",
            discussion: """
                Webhook: the secret file holds at least 32 bytes (openssl rand -hex 32 > FILE), readable by the \
                user daybook runs as; it is read at each delivery, so replacing it rotates the secret, and it \
                never enters the sink. The URL must be https unless its host is on loopback.

                Email: the digest as text and HTML, handed to msmtp (apt-get install msmtp), which speaks SMTP \
                to --smtp: STARTTLS with the certificate checked by default (TLS from the first byte with \
                --smtp-security tls; in the clear only with --smtp-security none, the default on loopback). A \
                login's password stays in --smtp-password-file, read at each delivery. The subject template may \
                use {date}, {slot}, {headline} (the most urgent line) and {changes}.
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The destination's name: lower-case letters, digits, '-' and '_'.")
        var name: String

        @Option(name: .long, help: ArgumentHelp("The URL to POST each day's digest to.", valueName: "url"))
        var webhook: String?

        @Option(name: .long, help: ArgumentHelp("The file holding the webhook's signing secret.", valueName: "file"))
        var secretFile: String?

        @Option(
            name: .long,
            help: ArgumentHelp("Email each day's digest to this address (repeat for more).", valueName: "address")
        )
        var email: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The SMTP server (port 587 for starttls, 465 for tls, 25 for none).",
                valueName: "host[:port]"
            )
        )
        var smtp: String?

        @Option(
            name: .long,
            help: "starttls, tls or none (default: starttls, or none when --smtp is on loopback)."
        )
        var smtpSecurity: Destination.Email.Security?

        @Option(name: .long, help: ArgumentHelp("The SMTP login's user name.", valueName: "user"))
        var smtpUser: String?

        @Option(name: .long, help: ArgumentHelp("The file holding the SMTP login's password.", valueName: "file"))
        var smtpPasswordFile: String?

        @Option(name: .long, help: ArgumentHelp("The email's sender address.", valueName: "address"))
        var from: String?

        @Option(name: .long, help: ArgumentHelp("The email's subject.", valueName: "template"))
        var subject: String = EmailMessage.defaultSubject

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
            switch (webhook, email.isEmpty) {
            case (nil, true):
                throw ValidationError(
                    "say where: --webhook URL --secret-file FILE, or --email ADDRESS --smtp HOST --from ADDRESS"
                )
            case (.some, false):
                throw ValidationError("one destination is a webhook or an email: add two destinations for both")
            case (.some(let url), true): try Self.checkWebhook(url, secretFile: secretFile)
            case (nil, false): _ = try emailSettings()
            }
        }

        static func checkWebhook(_ webhook: String, secretFile: String?) throws {
            guard secretFile != nil else {
                throw ValidationError("--webhook needs --secret-file FILE (openssl rand -hex 32 > FILE)")
            }
            guard let url = URL(string: webhook), let scheme = url.scheme?.lowercased(), let host = url.host else {
                throw ValidationError("'\(webhook)' is not a URL: give one such as https://hooks.example.com/daybook")
            }
            guard scheme == "https" || (scheme == "http" && isLoopback(host)) else {
                throw ValidationError(
                    "the webhook must use https (http only on loopback): the digest and its signature would travel in the clear"
                )
            }
        }

        /// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
        static func hostAndPort(_ smtp: String) throws -> (String, Int?) {
            var host = smtp
            var portText: Substring?
            if smtp.hasPrefix("["), let close = smtp.firstIndex(of: "]") {
                host = String(smtp[smtp.index(after: smtp.startIndex)..<close])
                let rest = smtp[smtp.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":") else { throw ValidationError("--smtp '\(smtp)' is not HOST[:PORT]") }
                    portText = rest.dropFirst()
                }
            } else if smtp.filter({ $0 == ":" }).count == 1, let colon = smtp.firstIndex(of: ":") {
                host = String(smtp[..<colon])
                portText = smtp[smtp.index(after: colon)...]
            }
            guard !host.isEmpty, !host.hasPrefix("-"),
                host.range(of: "^[A-Za-z0-9.:-]+$", options: .regularExpression) != nil
            else { throw ValidationError("--smtp '\(smtp)' is not a host name") }
            guard let portText else { return (host, nil) }
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw ValidationError("--smtp '\(smtp)': the port must be a number from 1 to 65535")
            }
            return (host, port)
        }

        static func isLoopback(_ host: String) -> Bool {
            ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased())
        }

        /// The email settings from the options, checked.
        func emailSettings() throws -> Destination.Email {
            guard let smtp else { throw ValidationError("--email needs --smtp HOST[:PORT], the server that sends it") }
            guard let from else { throw ValidationError("--email needs --from ADDRESS, the sender") }
            for address in email + [from] where !EmailMessage.isPlainAddress(address) {
                throw ValidationError(
                    "'\(address)' is not an email address Daybook sends to: give it as name@example.com"
                )
            }
            let (host, port) = try Self.hostAndPort(smtp)
            let loopback = Self.isLoopback(host)
            let security = smtpSecurity ?? (loopback ? .none : .starttls)
            guard (smtpUser == nil) == (smtpPasswordFile == nil) else {
                throw ValidationError("--smtp-user and --smtp-password-file go together")
            }
            if security == .none && smtpUser != nil && !loopback {
                throw ValidationError(
                    "--smtp-security none with a login off loopback would send the password in the clear: use starttls or tls"
                )
            }
            return Destination.Email(
                host: host,
                port: port ?? (security == .tls ? 465 : security == .starttls ? 587 : 25),
                security: security,
                user: smtpUser,
                passwordFile: smtpPasswordFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                from: from,
                to: email,
                subject: subject
            )
        }

        func run() throws {
            try reportingErrors {
                let endpoint: Destination.Endpoint
                if let webhook, let secretFile {
                    _ = try Destination.readSecret(secretFile)
                    endpoint = .webhook(
                        .init(url: webhook, secretFile: URL(fileURLWithPath: secretFile).standardizedFileURL.path)
                    )
                } else {
                    let settings = try emailSettings()
                    if let passwordFile = settings.passwordFile { try Destination.checkPasswordFile(passwordFile) }
                    guard OutboxSender.canSendEmail else {
                        throw DaybookError(
                            .configuration,
                            "email is handed to msmtp, which is not installed: apt-get install msmtp"
                        )
                    }
                    endpoint = .email(settings)
                }
                let sink = try connectCurrentSink(connection)
                let destination = Destination(
                    name: name,
                    slot: allSlots ? nil : connection.slot,
                    onlyUnusual: onlyUnusual,
                    endpoint: endpoint
                )
                try Outbox.add(destination, on: sink)
                print(
                    "added \(name): the digest of each day of \(allSlots ? "every slot" : "slot \(connection.slot)") that closes "
                        + "from now on\(onlyUnusual ? " with something unusual" : ""), to \(destination.shownTarget); "
                        + "daybook notify test \(name) sends the latest closed day now"
                )
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the latest closed day's digest to a destination now, and say whether it was accepted.",
            discussion: """
                For checking a new destination (its URL, secret, server, login, certificate) without waiting for \
                a day to close. Nothing is recorded; the test carries an id of its own (NAME-test-<time>), so a \
                receiver never takes it for the day's delivery. Exit 0 when accepted, 1 when not (the reason on \
                stderr).
                """
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The destination's name.")
        var name: String

        func run() throws {
            try reportingErrors {
                let sender = OutboxSender(sink: connection.sinkConnection, logger: Logger(label: "daybook.notify"))
                let result = try sender.test(name)
                guard result.accepted else {
                    printError("\(name) did not accept the test: \(result.detail)")
                    throw ExitCode.failure
                }
                print("\(name) accepted the test (\(result.detail)); it carried \(result.deliveryID)")
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
                let sink = try connectCurrentSink(connection)
                let destinations = try Outbox.list(on: sink)
                if format == "json" {
                    print(DaybookJSON.text(destinations))
                    return
                }
                if destinations.isEmpty {
                    print("no destinations (daybook notify add NAME --webhook URL --secret-file FILE)")
                }
                for line in destinations.flatMap(\.lines) { print(line) }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a destination and its pending deliveries.")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The destination's name.")
        var name: String

        func run() throws {
            try reportingErrors {
                let sink = try connectCurrentSink(connection)
                try Outbox.remove(name, on: sink)
                print("removed \(name)")
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a destination's failed deliveries pending again, once the destination is fixed.",
            discussion: "They are tried again from their first attempt, oldest day first, by the next sender's pass."
        )

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The destination's name.")
        var name: String

        func run() throws {
            try reportingErrors {
                let sink = try connectCurrentSink(connection)
                let count = try Outbox.retryFailed(name, on: sink)
                print("\(count) failed deliveries to \(name) are pending again")
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
                guard policy.base > .zero else {
                    throw DaybookError(.invalidArgument, "--retry-base must be longer than 0")
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
