import DaybookCore
import PostgresReplication

/// Keys of tables whose capture rule hashes key columns (`capture … --hash` of a key column)
/// are filed under the hashes. A key given by its values (`report --events` one key, the API's
/// events, `daybook forget --key`) is looked up as the sink files it.
enum HashedKeys {
    /// `key` (a JSON object) as the sink files it for `table` now: hashed under the newest rule
    /// that hashes one of its columns; unchanged when none does, or when a value is given as its
    /// hash already.
    static func stored(
        _ key: String,
        table: String,
        slot: String,
        _ sink: PostgresConnection
    ) throws(DaybookError)
        -> String
    {
        var skipped: [String] = []
        return try forms(key, table: table, slot: slot, sink, skipped: &skipped).last ?? key
    }

    /// Every form the sink may have filed `key` under, oldest rule first: as given (days before
    /// any hashing rule, or after one stopped), and hashed under each distinct key a rule of the
    /// table hashed its columns with. A key file that cannot be read is skipped (that form
    /// cannot be found) and its problem added to `skipped`.
    static func forms(
        _ key: String,
        table: String,
        slot: String,
        _ sink: PostgresConnection,
        skipped: inout [String]
    ) throws(DaybookError) -> [String] {
        guard let object = DaybookJSON.decode(JSONValue.self, from: key)?.object else { return [key] }
        let rules = try DaybookError.mapping(role: .sink) { try CaptureLevels.rules(slot: slot, sink) }
        var forms = [key]
        var seen: Set<String> = []
        for rule in rules where rule.table == table && rule.hashedColumns.contains(where: { object[$0] != nil }) {
            guard let file = rule.keyFile, let id = rule.keyID, seen.insert(id).inserted else { continue }
            let valueKey: ValueKey
            do { valueKey = try SecretFile.valueKey(file, expectedID: id) } catch {
                skipped.append(error.message)
                continue
            }
            var hashed = object
            for column in rule.hashedColumns {
                let text: String
                switch object[column] {
                case .string(let string): text = string
                case .integer(let integer): text = String(integer)
                default: continue
                }
                if text.hasPrefix(ValueKey.prefix) { continue }
                hashed[column] = .string(valueKey.hash(text))
            }
            forms.append(DaybookJSON.text(JSONValue.object(hashed)))
        }
        return forms
    }
}
