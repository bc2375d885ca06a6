/// Any JSON value: for JSON whose shape is data, not a type (a row image, a key, a report line
/// built by SQL), so that it is read and written with Codable like every other JSON Daybook
/// handles, through one decoder and one encoder (`DaybookJSON`), instead of Foundation's
/// `JSONSerialization` and `Any`.
///
/// An object is encoded as a dictionary, never through a keyed container: an encoder's key
/// strategy (Daybook's is snake_case) rewrites a keyed container's keys, and a column named
/// `createdAt` must stay `createdAt`. Integers stay integers (`5`, not `5.0`).
public enum JSONValue: Codable, Hashable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object (nil for anything else, or when absent).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The text of a string (nil for anything else).
    public var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// The members of an object (nil for anything else).
    public var object: [String: JSONValue]? {
        guard case .object(let value) = self else { return nil }
        return value
    }

    /// The elements of an array (nil for anything else).
    public var array: [JSONValue]? {
        guard case .array(let value) = self else { return nil }
        return value
    }

    /// The value of an integer (nil for anything else).
    public var integer: Int64? {
        guard case .integer(let value) = self else { return nil }
        return value
    }

    /// Whether this is JSON's `null`.
    public var isNull: Bool { self == .null }
}
