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
