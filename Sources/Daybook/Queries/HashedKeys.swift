import DaybookCore
import PostgresReplication

/// Keys of tables whose capture rule hashes key columns (`capture … --hash` of a key column)
/// are filed under the hashes. A key given by its values (`report --events` one key, the API's
/// events, `daybook forget --key`) is looked up as the sink files it: the hashed columns'
/// values replaced by their hashes under the newest such rule's key.
enum HashedKeys {
    /// `key` (a JSON object) as the sink files it for `table`; unchanged when no rule of the
    /// slot hashes one of its columns, or when a value is given as its hash already.
    static func stored(
        _ key: String,
        table: String,
        slot: String,
        _ sink: PostgresConnection
    ) throws(DaybookError)
        -> String
    {
        guard var object = DaybookJSON.decode(JSONValue.self, from: key)?.object else { return key }
        let rules = try DaybookError.mapping(role: .sink) { try CaptureLevels.rules(slot: slot, sink) }
        guard
            let rule = rules.last(where: { rule in
                rule.table == table && rule.keyFile != nil && rule.hashedColumns.contains(where: { object[$0] != nil })
            }), let file = rule.keyFile
        else { return key }
        let valueKey = try SecretFile.valueKey(file, expectedID: rule.keyID)
        for column in rule.hashedColumns {
            let text: String
            switch object[column] {
            case .string(let string): text = string
            case .integer(let integer): text = String(integer)
            default: continue
            }
            if text.hasPrefix(ValueKey.prefix) { continue }
            object[column] = .string(valueKey.hash(text))
        }
        return DaybookJSON.text(JSONValue.object(object))
    }
}
