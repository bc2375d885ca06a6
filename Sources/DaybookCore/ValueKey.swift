import Crypto
import Foundation

/// The key of the keyed hashes a capture rule stores instead of a column's values (`daybook
/// capture TABLE values --hash COLUMN --key-file FILE`): HMAC-SHA256, by swift-crypto.
///
/// Equal values hash equal under one key, so a hashed column still shows when it changed and
/// can be matched across days and tables, but cannot be read back without the key, which stays
/// in its file: the sink holds only the key's ``id``, to tell which key a rule was set with.
public struct ValueKey: Sendable, Equatable {
    /// The key itself, which prints as `<redacted>`.
    let secret: Secret
    /// The same for swift-crypto, made once (hashing runs per captured value).
    private let symmetric: SymmetricKey
    /// HMAC states keyed once, copied per value (keying costs two SHA-256 blocks per call).
    private let hashState: HMAC<SHA256>
    private let maskState: HMAC<SHA256>

    /// The shortest key accepted, in bytes (as long as the HMAC-SHA256 output).
    public static let minimumBytes = 32

    /// The key in `bytes` (a key file's content, without a trailing newline); nil when shorter
    /// than ``minimumBytes``.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= Self.minimumBytes else { return nil }
        secret = Secret(bytes)
        symmetric = SymmetricKey(data: bytes)
        hashState = HMAC<SHA256>(key: symmetric)
        var mask = HMAC<SHA256>(key: symmetric)
        mask.update(data: Array("daybook mask\u{0}".utf8))
        maskState = mask
        id = Hex.lowercase(
            HMAC<SHA256>.authenticationCode(for: Array("daybook value key id".utf8), using: symmetric).prefix(8)
        )
    }

    public static func == (left: ValueKey, right: ValueKey) -> Bool { left.secret == right.secret }

    /// 16 hex digits that name the key without revealing it (an HMAC of a fixed text under it):
    /// recorded with each rule, compared with the key file's when `run` loads it.
    public let id: String

    /// What is stored for `value` (PostgreSQL's text form): `hmac:` and the 64 hex digits of
    /// HMAC-SHA256 under the key, as a receiver computes it with `hmac.new(key, value,
    /// sha256).hexdigest()`.
    public func hash(_ value: UnsafeRawBufferPointer) -> String {
        var hmac = hashState
        hmac.update(data: value)
        return Self.prefix + Hex.lowercase(hmac.finalize())
    }

    /// ``hash(_:)`` of a string's UTF-8 bytes.
    public func hash(_ value: String) -> String {
        var value = value
        return value.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// What a stored hash starts with, so that a reader never takes it for a value.
    public static let prefix = "hmac:"

    /// What a masked value is while its day is open (``MaskedValue``): a tag that tells at
    /// close whether the column changed, never the value: the key's ``id``, then 128 bits of
    /// an HMAC under the key of the value with a text of its own before it, so it matches no
    /// `hash` of the same value. Tags under two keys (a rotation) are never compared.
    public func maskTag(_ value: UnsafeRawBufferPointer) -> String {
        var hmac = maskState
        hmac.update(data: value)
        return MaskedValue.tagPrefix + id + ":" + Hex.lowercase(hmac.finalize().prefix(16))
    }
}
