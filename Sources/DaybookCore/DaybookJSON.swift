import Foundation

/// Daybook's one JSON encoding and decoding: the CLI's `--format json`, the HTTP API, the
/// dashboard, the event report's other formats and the capture-rule messages all go through
/// it, so that every object Daybook prints has the same shape: snake_case keys (as the
/// report's JSON, which SQL builds), sorted for stable output, `/` not escaped.
///
/// Values are Codable types, or ``JSONValue`` for JSON whose shape is data. The one exception
/// is ``JSONText``: the sink's bulk statements (a batch of tens of thousands of keys, a close of
/// millions) are written straight into one string, where an encoder would allocate per value.
public enum DaybookJSON {
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers (or JSON values) cannot fail.
        return (try? encoder.encode(value)) ?? Data("null".utf8)
    }

    /// ``encode(_:)`` as text.
    public static func text(_ value: some Encodable) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Decodes what ``encode(_:)`` wrote (snake_case keys), or any JSON into ``JSONValue`` or
    /// dictionaries (whose keys are taken as they are); nil when `data` is not such a value.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) -> Value? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(type, from: data)
    }

    /// ``decode(_:from:)`` of JSON text.
    public static func decode<Value: Decodable>(_ type: Value.Type, from text: String) -> Value? {
        decode(type, from: Data(text.utf8))
    }
}
