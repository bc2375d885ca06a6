import Foundation
import PostgresReplication
import Windowing

extension Sink {
    /// Appends the events of `values` tables to `daybook.value_events` with one binary COPY.
    func appendValueEvents(_ events: ValueEventLog, tableNames: [String]) throws(PostgresError) {
        guard !events.isEmpty else { return }
        var encoder = takeCopyEncoder()
        defer { returnCopyEncoder(encoder) }
        let tableBytes = tableNames.map { Array($0.utf8) }
        for (index, event) in events.events.enumerated() {
            encoder.beginRow(fieldCount: 13)
            encoder.appendText(slotBytes)
            encoder.appendTimestamp(microsecondsSinceEpoch: event.windowStart)
            encoder.appendText(tableBytes[Int(event.table)])
            events.withImages(at: index) { images in
                encoder.appendJSONB(images.key)
                encoder.appendLSN(event.lsn)
                encoder.appendInt32Field(event.sequence)
                encoder.appendText([event.operation.rawValue])
                encoder.appendTimestamp(microsecondsSinceEpoch: event.commitTime)
                for image in [images.row, images.oldRow, images.oldKey, images.newKey, images.unchanged] {
                    if let image { encoder.appendJSONB(image) } else { encoder.appendNull() }
                }
            }
        }
        encoder.finish()
        try connection.copyIn(SinkSQL.copyValueEvents, data: encoder.bytes)
    }

    /// Folds the closing windows' events per key (see ``KeyEventFold``): writes each key's
    /// `daybook.key_values` row, fills unchanged TOASTed values from the images before them,
    /// and drops a hot key's events past `maxEventsPerKey`. Runs in the checkpoint
    /// transaction that closes the windows, reading the events through a cursor so that
    /// memory holds one chunk, not a day.
    func foldClosingValues(_ closed: [WindowClosure]) throws {
        for closure in closed {
            let windowStart = String(closure.window.start.microsecondsSinceEpoch)
            try connection.query(SinkSQL.declareValueEventsCursor, [slot, windowStart])
            var pending: (table: String, key: String, events: [KeyEventFold.Event], ids: [String], previous: KeyEventFold.Previous)?
            var output = FoldOutput()
            while true {
                let chunk = try connection.simpleQuery("FETCH 5000 FROM daybook_value_events")
                for row in chunk.rows {
                    let table = row[0] ?? "", key = row[1] ?? ""
                    if let current = pending, current.table != table || current.key != key {
                        output.add(current, maxEvents: maxEventsPerKey)
                        pending = nil
                    }
                    let event = KeyEventFold.Event(
                        operation: RowOperation(rawValue: row[4]?.utf8.first ?? 0) ?? .update,
                        newRow: Self.image(row[5]), oldRow: Self.image(row[6]),
                        unchanged: (Self.json(row[7]) as? [String]) ?? [])
                    let id = row[2] ?? "0/0", sequence = row[3] ?? "0"
                    if pending == nil {
                        let previous: KeyEventFold.Previous = row[8] == "t" ? .image(Self.image(row[9])) : .none
                        pending = (table, key, [], [], previous)
                    }
                    pending!.events.append(event)
                    pending!.ids.append("\(id) \(sequence)")
                }
                if output.keyCount >= 5000 { try output.write(to: self, windowStart: windowStart) }
                if chunk.rows.isEmpty { break }
            }
            if let current = pending { output.add(current, maxEvents: maxEventsPerKey) }
            try output.write(to: self, windowStart: windowStart)
            try connection.simpleQuery("CLOSE daybook_value_events")
        }
    }

    /// A jsonb text value as a row image (column to text or NULL).
    private static func image(_ text: String?) -> KeyEventFold.Image? {
        guard let object = json(text) as? [String: Any] else { return nil }
        return object.mapValues { $0 as? String }
    }

    private static func json(_ text: String?) -> Any? {
        guard let text else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}

/// The results of folding a chunk of keys, written with one statement each.
private struct FoldOutput {
    var keyValues = "["
    var fills = "["
    var drops = "["
    var keyCount = 0

    mutating func add(
        _ key: (table: String, key: String, events: [KeyEventFold.Event], ids: [String], previous: KeyEventFold.Previous),
        maxEvents: Int
    ) {
        let fold = KeyEventFold(events: key.events, previous: key.previous, maxEvents: maxEvents)
        let prefix = "{\"t\":" + JSONText.string(key.table) + ",\"k\":" + key.key
        Self.separate(&keyValues)
        keyValues += prefix + ",\"b\":\"\(fold.before.rawValue)\",\"n\":\(key.events.count),\"x\":\(fold.dropped.count)"
        keyValues += ",\"c\":" + Self.changedJSON(fold.changed) + "}"
        for filled in fold.filled {
            Self.separate(&fills)
            let (lsn, sequence) = Self.split(key.ids[filled.index])
            fills += prefix + ",\"l\":\"\(lsn)\",\"s\":\(sequence),\"r\":" + Self.imageJSON(filled.newRow) + ",\"u\":"
            fills += filled.unchanged.isEmpty ? "null" : "[" + filled.unchanged.map(JSONText.string).joined(separator: ",") + "]"
            fills += "}"
        }
        if !fold.dropped.isEmpty {
            let (fromLSN, fromSequence) = Self.split(key.ids[fold.dropped.lowerBound])
            let (toLSN, toSequence) = Self.split(key.ids[fold.dropped.upperBound - 1])
            Self.separate(&drops)
            drops += prefix + ",\"fl\":\"\(fromLSN)\",\"fs\":\(fromSequence),\"tl\":\"\(toLSN)\",\"ts\":\(toSequence)}"
        }
        keyCount += 1
    }

    mutating func write(to sink: Sink, windowStart: String) throws {
        guard keyCount > 0 else { return }
        try sink.connection.query(SinkSQL.insertKeyValues, [sink.slot, windowStart, keyValues + "]"])
        if fills.utf8.count > 1 { try sink.connection.query(SinkSQL.fillValueEvents, [sink.slot, windowStart, fills + "]"]) }
        if drops.utf8.count > 1 { try sink.connection.query(SinkSQL.dropValueEvents, [sink.slot, windowStart, drops + "]"]) }
        self = FoldOutput()
    }

    private static func separate(_ json: inout String) {
        if json.utf8.count > 1 { json.append(",") }
    }

    private static func split(_ id: String) -> (String, String) {
        let parts = id.split(separator: " ")
        return (String(parts[0]), String(parts[1]))
    }

    private static func value(_ value: String?) -> String {
        value.map(JSONText.string) ?? "null"
    }

    static func imageJSON(_ image: KeyEventFold.Image) -> String {
        "{" + image.keys.sorted().map { JSONText.string($0) + ":" + value(image[$0]!) }.joined(separator: ",") + "}"
    }

    static func changedJSON(_ changed: [String: KeyEventFold.Change]) -> String {
        "{"
            + changed.keys.sorted().map { column in
                let change = changed[column]!
                var fields: [String] = []
                if let before = change.before { fields.append("\"before\":" + value(before)) }
                if let after = change.after { fields.append("\"after\":" + value(after)) }
                return JSONText.string(column) + ":{" + fields.joined(separator: ",") + "}"
            }.joined(separator: ",") + "}"
    }
}
