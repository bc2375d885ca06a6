import Foundation

/// Minimal JSON text building for the hot path (batch payloads, key objects, report lines).
///
/// Foundation's encoders allocate per value; batches of tens of thousands of keys are written
/// directly into one string instead.
package enum JSONText {
    /// Appends `value` as a JSON string literal, escaping as RFC 8259 requires.
    package static func appendString(_ value: some StringProtocol, to output: inout String) {
        output.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }

    /// Valid JSON text without the whitespace between its tokens (PostgreSQL's `jsonb` and
    /// `json_build_object` print `{"a": 1}` and `{"a" : 1}`): every JSON Daybook prints has one
    /// compact style, so two nights' files diff and grep alike. Strings are kept byte for byte.
    package static func compact(_ json: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(json.utf8.count)
        var inString = false
        var escaped = false
        for byte in json.utf8 {
            if inString {
                output.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }

    package static func string(_ value: some StringProtocol) -> String {
        var output = ""
        appendString(value, to: &output)
        return output
    }

    /// A JSON array of strings (as `to_jsonb(text[])` prints one), or nil for anything else.
    package static func strings(_ json: String) -> [String]? {
        DaybookJSON.decode([String].self, from: json)
    }
}
