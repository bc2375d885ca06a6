import DaybookCore
import Foundation
import PostgresReplication

/// Where closed days are delivered (`daybook notify add`), kept in the sink's
/// `daybook.destinations`. Secrets never enter the sink: it holds the files they are in.
public struct Destination: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// An HTTP POST of the digest's JSON with a `text` summary, signed with a secret.
        case webhook
        /// A MIME email of the digest as text and HTML, handed to msmtp for an SMTP server.
        case email
    }

    /// How a destination is reached: the settings kept as JSON in `destinations.settings`.
    public enum Endpoint: Sendable, Equatable {
        case webhook(Webhook)
        case email(Email)
    }

    public struct Webhook: Sendable, Equatable, Codable {
        public var url: String
        /// A file holding the secret (at least 32 bytes), read at each attempt, so that a
        /// rotated secret takes effect without a restart.
        public var secretFile: String

        public init(url: String, secretFile: String) {
            self.url = url
            self.secretFile = secretFile
        }
    }

    public struct Email: Sendable, Equatable, Codable {
        /// How the SMTP connection is protected, as libpq's `sslmode` is chosen for a server.
        public enum Security: String, Sendable, Codable, CaseIterable {
            /// STARTTLS on the submission port (587), the certificate checked: the default off loopback.
            case starttls
            /// TLS from the first byte (port 465), the certificate checked.
            case tls
            /// In the clear: the default on loopback (a local relay), refused off loopback with a login.
            case none
        }

        public var host: String
        public var port: Int
        public var security: Security
        public var user: String?
        /// A file holding the SMTP password, read by msmtp at each attempt.
        public var passwordFile: String?
        public var from: String
        public var to: [String]
        public var subject: String

        public init(
            host: String,
            port: Int,
            security: Security,
            user: String?,
            passwordFile: String?,
            from: String,
            to: [String],
            subject: String
        ) {
            self.host = host
            self.port = port
            self.security = security
            self.user = user
            self.passwordFile = passwordFile
            self.from = from
            self.to = to
            self.subject = subject
        }
    }

    public var name: String
    /// The slot whose days it receives; nil: every slot's.
    public var slot: String?
    /// Only days whose digest has something unusual (a TRUNCATE, a mass delete, an unusual
    /// or silent table, a schema change).
    public var onlyUnusual: Bool
    public var endpoint: Endpoint

    public init(name: String, slot: String?, onlyUnusual: Bool, endpoint: Endpoint) {
        self.name = name
        self.slot = slot
        self.onlyUnusual = onlyUnusual
        self.endpoint = endpoint
    }

    public var kind: Kind {
        switch endpoint {
        case .webhook: .webhook
        case .email: .email
        }
    }

    /// Where it goes, as `status`, `notify list` and the dashboard may show it: a webhook's
    /// scheme, host and port (a chat webhook's path is its secret), an email's recipients and
    /// server.
    public var shownTarget: String {
        switch endpoint {
        case .webhook(let webhook):
            guard let url = URL(string: webhook.url), let scheme = url.scheme, let host = url.host else { return "?" }
            return "\(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")/…"
        case .email(let email):
            return "\(email.to.joined(separator: ", ")) via \(email.host):\(email.port)"
        }
    }

    /// The settings as the sink keeps them.
    var settingsJSON: String {
        switch endpoint {
        case .webhook(let webhook): DaybookJSON.text(webhook)
        case .email(let email): DaybookJSON.text(email)
        }
    }

    /// The endpoint from the sink's kind and settings; nil when they do not fit together.
    static func endpoint(kind: String, settings: String) -> Endpoint? {
        switch Kind(rawValue: kind) {
        case .webhook: DaybookJSON.decode(Webhook.self, from: settings).map(Endpoint.webhook)
        case .email: DaybookJSON.decode(Email.self, from: settings).map(Endpoint.email)
        case nil: nil
        }
    }

    /// The shortest secret accepted, in bytes (as long as the HMAC-SHA256 output).
    public static let minimumSecretBytes = 32

    /// The secret in `file`, without a trailing newline; a ``DaybookError`` that says what to
    /// do when the file is missing, unreadable or too short.
    public static func readSecret(_ file: String) throws(DaybookError) -> [UInt8] {
        try SecretFile.read(
            file,
            what: "secret file",
            minimum: minimumSecretBytes,
            hint: "openssl rand -hex 32 > \(file)"
        )
    }

    /// Checks that an SMTP password file can be read and is not empty (its content stays in
    /// the file: msmtp reads it at each attempt).
    public static func checkPasswordFile(_ file: String) throws(DaybookError) {
        _ = try SecretFile.read(file, what: "password file", minimum: 1, hint: "write the SMTP password into it")
    }

    /// Whether a digest is worth sending under ``onlyUnusual``.
    public static func hasNews(_ digest: Digest) -> Bool {
        digest.slots.contains { slot in
            let headline = slot.headline
            return !headline.unusual.isEmpty || !headline.silent.isEmpty || !headline.massChanges.isEmpty
                || !headline.schemaChanged.isEmpty || !slot.incomplete.isEmpty
        }
    }
}

/// A destination and how its deliveries stand, for `notify list`, `status`, the API, the
/// dashboard and the metrics: no secret and no webhook path in it.
public struct DestinationStatus: Sendable, Codable, Equatable {
    public var name: String
    public var kind: Destination.Kind
    /// ``Destination/shownTarget``.
    public var target: String
    /// nil: every slot's days.
    public var slot: String?
    public var onlyUnusual: Bool
    public var pending: Int
    /// Given up (``DeliveryPolicy``), kept with their last error.
    public var failed: Int
    public var delivered: Int
    public var skipped: Int
    /// The latest day delivered (its window start) and when.
    public var lastDeliveredWindow: String?
    public var lastDeliveredAt: String?
    /// The last error of a delivery not delivered (pending or failed).
    public var lastError: String?
    /// When the oldest pending delivery was written (its day closed), and how many seconds ago.
    public var oldestPendingSince: String?
    public var oldestPendingAgeSeconds: Double?
    /// Attempts recorded, by outcome (`delivered`, `retry`, `failed`), for the metrics.
    public var attempts: [String: Int]
}

extension DestinationStatus {
    /// Two lines, as `notify list` and `status` print them: where it goes, then how it stands.
    public var lines: [String] {
        [
            "\(name)  \(kind.rawValue) \(target)  \(slot.map { "slot \($0)" } ?? "every slot")"
                + (onlyUnusual ? "  only unusual days" : ""),
            "  last delivered: \(lastDeliveredWindow ?? "none yet")\(lastDeliveredAt.map { " (at \($0))" } ?? "");"
                + " pending: \(pending)\(oldestPendingSince.map { " (oldest since \($0))" } ?? ""); failed: \(failed)"
                + (lastError.map { "; last error: \($0)" } ?? ""),
        ]
    }
}
