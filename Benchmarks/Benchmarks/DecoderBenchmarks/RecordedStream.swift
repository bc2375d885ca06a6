import Foundation

/// A pgoutput stream recorded from a real server by `scripts/record-benchmark-streams`: one
/// message per line as hex.
enum RecordedStream {
    static func load(_ name: String) -> [[UInt8]] {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(name).hex").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            fatalError("cannot read \(path): run scripts/record-benchmark-streams")
        }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(line.utf8.count / 2)
            var high: UInt8?
            for character in line.utf8 {
                let nibble = character <= 57 ? character - 48 : (character | 0x20) - 87
                if let value = high {
                    bytes.append(value << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
            return bytes
        }
    }
}
