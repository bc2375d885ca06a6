import Foundation

/// The one JSON encoding of Daybook's value objects (``Status``, ``WindowSummary``), shared by
/// the CLI's `--format json` and the HTTP API, so that both print the same object: snake_case
/// keys, as the report's JSON, sorted for stable output.
public enum JSONOutput {
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail.
        return (try? encoder.encode(value)) ?? Data("null".utf8)
    }

    public static func text(_ value: some Encodable) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }
}
