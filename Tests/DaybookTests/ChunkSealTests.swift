import Testing

@testable import DaybookCore

/// Sealed chunks of streamed transactions, with values: every size round-trips, piece
/// boundaries included, the sealed size is known before sealing, and nothing but the session's
/// own seal opens them.
struct ChunkSealTests {
    private let seal = ChunkSeal()

    @Test(arguments: [
        0, 1, ChunkSeal.pieceBytes - 1, ChunkSeal.pieceBytes, ChunkSeal.pieceBytes + 1, 3 * ChunkSeal.pieceBytes + 5,
    ])
    func everySizeRoundTrips(size: Int) throws {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let sealed = try seal.seal(bytes)
        #expect(sealed.count == ChunkSeal.sealedCount(size))
        #expect(try sealed.withUnsafeBytes { try seal.open($0) } == bytes)
        // Sealed a piece at a time with a prefix: the same plain bytes come back.
        var pieces: [UInt8] = []
        let prefix: [UInt8] = [1, 2, 3, 4, 5]
        try bytes.withUnsafeBytes { body in try seal.seal(prefix: prefix, body: body) { pieces.append(contentsOf: $0) }
        }
        #expect(pieces.count == ChunkSeal.sealedCount(size + prefix.count))
        #expect(try pieces.withUnsafeBytes { try seal.open($0) } == prefix + bytes)
    }

    @Test func onlyTheSessionsSealOpensAndAChangedByteIsRefused() throws {
        var sealed = try seal.seal(Array("a row in clear".utf8))
        #expect(
            !sealed.withUnsafeBytes {
                $0.contains(UInt8(ascii: "c")) && String(decoding: $0, as: UTF8.self).contains("clear")
            }
        )
        #expect(throws: (any Error).self) { try sealed.withUnsafeBytes { try ChunkSeal().open($0) } }
        sealed[sealed.count / 2] ^= 1
        #expect(throws: (any Error).self) { try sealed.withUnsafeBytes { try seal.open($0) } }
    }
}
