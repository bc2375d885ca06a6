import DaybookCore
import Foundation
import PostgresReplication

/// Where closed days are delivered (`daybook notify add`), kept in the sink's
/// `daybook.destinations`.
public struct Destination: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// An HTTP POST of the digest's JSON with a `text` summary, signed with a secret.
        case webhook
    }

    public var name: String
    public var kind: Kind
    /// The slot whose days it receives; nil: every slot's.
    public var slot: String?
    /// Only days whose digest has something unusual (a TRUNCATE, a mass delete, an unusual
    /// or silent table, a schema change).
    public var onlyUnusual: Bool
    public var url: String
    /// A file holding the webhook's secret (at least 32 bytes), read at each attempt, so that
    /// a rotated secret takes effect without a restart. The secret never enters the sink.
    public var secretFile: String

    public init(name: String, kind: Kind, slot: String?, onlyUnusual: Bool, url: String, secretFile: String) {
        self.name = name
        self.kind = kind
        self.slot = slot
        self.onlyUnusual = onlyUnusual
        self.url = url
        self.secretFile = secretFile
    }

    /// The shortest secret accepted, in bytes (as long as the HMAC-SHA256 output).
    public static let minimumSecretBytes = 32

    /// The secret in `file`, without a trailing newline; a ``DaybookError`` that says what to
    /// do when the file is missing, unreadable or too short.
    public static func readSecret(_ file: String) throws(DaybookError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: file) else {
            throw DaybookError(
                .configuration,
                "the secret file \(file) does not exist: write a secret of at least \(minimumSecretBytes) bytes into it (openssl rand -hex 32 > \(file))"
            )
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DaybookError(
                .configuration,
                "cannot read the secret file \(file): make it readable by the user daybook runs as"
            )
        }
        var bytes = Array(data)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= minimumSecretBytes else {
            throw DaybookError(
                .configuration,
                "the secret in \(file) is \(bytes.count) bytes: use at least \(minimumSecretBytes) (openssl rand -hex 32 > \(file))"
            )
        }
        return bytes
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

/// A destination with how its deliveries stand, for `notify list` and `status`.
public struct DestinationStatus: Sendable, Codable, Equatable {
    public var destination: Destination
    public var pending: Int
    public var failed: Int
    /// The latest day delivered (its window start) and when.
    public var lastDeliveredWindow: String?
    public var lastDeliveredAt: String?
    public var lastError: String?
}
