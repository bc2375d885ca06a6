import Foundation

/// Text made safe for HTML element content and attribute values: everything the dashboard
/// shows from the sink (table names, keys, row values) goes through it.
enum HTML {
    /// Escapes markup, and shows invisible characters as `\u` escapes: a control character, or
    /// a format character such as U+202E (which reverses the text after it), would otherwise
    /// make a value look like another one.
    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator:
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                default: output.unicodeScalars.append(scalar)
                }
            }
        }
        return output
    }

    /// A query-string value, percent-encoded (then escaped when put in an attribute).
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
