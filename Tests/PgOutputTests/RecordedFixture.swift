import Foundation
import PgOutput

/// The pgoutput messages recorded from a real PostgreSQL 15 by `scripts/record-pgoutput-fixtures`.
///
/// The file holds one message per line as hex; lines starting with `#` are comments.
enum RecordedFixture {
    /// Every recorded message's bytes, in stream order.
    static let messages: [[UInt8]] = load("recorded-pg15")

    /// Every recorded message decoded; any decoding error fails the calling test.
    static func decodedMessages() throws -> [PgOutputMessage] {
        try messages.map { try PgOutputDecoder.decode($0) }
    }

    private static func load(_ name: String) -> [[UInt8]] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "hex", subdirectory: "Fixtures"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        return text.split(whereSeparator: \.isNewline)
            .filter { !$0.hasPrefix("#") }
            .map { hexBytes($0) }
    }

    /// Parses pairs of hex digits; a malformed line yields an empty message, which then fails
    /// to decode with `.empty` and so cannot go unnoticed.
    private static func hexBytes(_ line: Substring) -> [UInt8] {
        let digits = Array(line.utf8)
        guard digits.count.isMultiple(of: 2) else { return [] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return [] }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
