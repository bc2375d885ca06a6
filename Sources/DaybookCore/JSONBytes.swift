/// JSON string literals written straight into UTF-8 bytes: the per-change key path.
///
/// Column values arrive as bytes in the server's encoding (UTF-8). Plain ASCII, by far the
/// common case, is copied byte for byte; anything else goes through `String`, which repairs
/// invalid UTF-8 with U+FFFD exactly as ``JSONText`` does, so the sink's `jsonb` never sees
/// an invalid sequence.
package enum JSONBytes {
    package static func appendString(_ value: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var plain = true
        for byte in value where byte < 0x20 || byte >= 0x80 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
        {
            plain = false
            break
        }
        if plain {
            output.append(contentsOf: value)
        } else {
            var escaped = ""
            JSONText.appendString(String(decoding: value, as: UTF8.self), to: &escaped)
            // Without the quotes JSONText adds.
            output.append(contentsOf: escaped.utf8.dropFirst().dropLast())
        }
        output.append(UInt8(ascii: "\""))
    }
}
