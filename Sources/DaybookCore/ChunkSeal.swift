import Crypto
import Foundation

/// Seals the chunks of streamed transactions that wait in the sink for their commit
/// (`daybook.stream_chunks`): they are the server's messages as they came, every column of the
/// row in clear, hashed, masked and excluded ones too (a table published whole). Sealed with
/// ChaCha20-Poly1305 (swift-crypto) under a key made for the session and never written
/// anywhere, they are unreadable to anyone who reads the sink, its WAL or its backups; the
/// session that wrote them is the only reader, and a new session deletes them unread anyway
/// (the server streams an unfinished transaction again from its start).
///
/// A chunk is sealed a mebibyte at a time (each piece its own nonce and tag), so that a row of
/// hundreds of megabytes is sealed as it is sent, never copied whole.
public struct ChunkSeal: Sendable {
    private let key: SymmetricKey
    /// Plain bytes per sealed piece.
    static let pieceBytes = 1 << 20
    /// What sealing adds to a piece: its nonce (12 bytes) and tag (16).
    static let overhead = 28

    /// A new random key (the system's secure generator).
    public init() { key = SymmetricKey(size: .bits256) }

    /// The sealed size of `plainCount` bytes.
    public static func sealedCount(_ plainCount: Int) -> Int {
        plainCount + overhead * max(1, (plainCount + pieceBytes - 1) / pieceBytes)
    }

    /// `bytes` sealed, piece by piece.
    public func seal(_ bytes: [UInt8]) throws -> [UInt8] {
        var sealed: [UInt8] = []
        sealed.reserveCapacity(Self.sealedCount(bytes.count))
        try bytes.withUnsafeBytes { plain in
            try seal(prefix: [], body: plain) { sealed.append(contentsOf: $0) }
        }
        return sealed
    }

    /// `prefix` followed by `body`, sealed a piece at a time, each piece handed to `each` (valid
    /// only during the call).
    public func seal(
        prefix: [UInt8],
        body: UnsafeRawBufferPointer,
        each: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let total = prefix.count + body.count
        var offset = 0
        var piece: [UInt8] = []
        piece.reserveCapacity(min(total, Self.pieceBytes))
        repeat {
            let count = min(Self.pieceBytes, total - offset)
            piece.removeAll(keepingCapacity: true)
            // The piece's bytes from the prefix, then from the body.
            if offset < prefix.count {
                piece.append(contentsOf: prefix[offset..<min(prefix.count, offset + count)])
            }
            let bodyStart = max(0, offset - prefix.count)
            let bodyCount = count - piece.count
            if bodyCount > 0 {
                piece.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[bodyStart..<(bodyStart + bodyCount)]))
            }
            let sealed = try ChaChaPoly.seal(piece, using: key).combined
            try sealed.withUnsafeBytes { try each($0) }
            offset += count
        } while offset < total
    }

    /// What ``seal(_:)`` sealed; an error for bytes that are not (another session's, or changed).
    public func open(_ sealed: UnsafeRawBufferPointer) throws -> [UInt8] {
        var plain: [UInt8] = []
        plain.reserveCapacity(max(0, sealed.count - Self.overhead))
        var offset = 0
        repeat {
            let count = min(Self.pieceBytes + Self.overhead, sealed.count - offset)
            guard count >= Self.overhead else { throw CryptoKitError.incorrectParameterSize }
            let box = try ChaChaPoly.SealedBox(
                combined: UnsafeRawBufferPointer(rebasing: sealed[offset..<(offset + count)])
            )
            plain.append(contentsOf: try ChaChaPoly.open(box, using: key))
            offset += count
        } while offset < sealed.count
        return plain
    }
}
