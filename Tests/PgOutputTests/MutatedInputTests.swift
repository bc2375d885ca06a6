import PgOutput
import PgOutputTestSupport
import Testing

/// Decodes thousands of deterministic pseudo-random corruptions of the recorded messages: each
/// must decode or throw a ``PgOutputDecodingError``; a trap would crash the test run.
struct MutatedInputTests {
    /// Values that stress count and length fields: zero, signs, extremes, off-by-one.
    private static let interestingWords: [UInt32] = [
        0, 1, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE,
    ]

    @Test func mutatedRecordedMessagesDecodeOrThrow() throws {
        let messages = RecordedFixture.messages
        try #require(!messages.isEmpty)
        var random = SeededGenerator(seed: 0x0DAB_00C0)
        var decoded = 0
        var failures: [String] = []
        for round in 0..<5_000 {
            var bytes = messages[random.next(below: messages.count)]
            for _ in 0...random.next(below: 3) { Self.mutate(&bytes, &random) }
            do {
                let message = try PgOutputDecoder.decode(bytes)
                decoded += 1
                if try PgOutputDecoder.decode(PgOutputTestEncoder.encode(message)) != message {
                    failures.append("round \(round): re-encoding changed the message")
                }
            } catch {
                if error.offset < 0 || error.offset > bytes.count || error.messageType != bytes.first {
                    failures.append("round \(round): \(error) for \(bytes.count) bytes")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect((50..<4_950).contains(decoded), "mutations should hit both outcomes, decoded \(decoded)")
    }

    /// Applies one corruption: a flipped bit, a random byte, an interesting 16- or 32-bit word,
    /// a cut, or an inserted, removed or appended byte.
    private static func mutate(_ bytes: inout [UInt8], _ random: inout SeededGenerator) {
        let position = bytes.isEmpty ? 0 : random.next(below: bytes.count)
        switch random.next(below: 7) {
        case 0 where !bytes.isEmpty:
            bytes[position] ^= 1 << UInt8(random.next(below: 8))
        case 1 where !bytes.isEmpty:
            bytes[position] = random.byte()
        case 2:
            let word = interestingWords[random.next(below: interestingWords.count)]
            let width = random.next(below: 2) == 0 ? 2 : 4
            for index in 0..<width where position + index < bytes.count {
                bytes[position + index] = UInt8(truncatingIfNeeded: word >> UInt32(8 * (width - 1 - index)))
            }
        case 3:
            bytes.removeLast(bytes.count - position)
        case 4:
            bytes.insert(random.byte(), at: position)
        case 5 where !bytes.isEmpty:
            bytes.remove(at: position)
        default:
            bytes.append(random.byte())
        }
    }
}
