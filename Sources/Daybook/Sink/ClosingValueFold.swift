import DaybookCore
import Foundation
import PostgresReplication
import WAL
import Windowing

/// Folds a closing window's value events per key (see ``KeyEventFold``): writes each key's
/// `daybook.key_values` row, fills unchanged TOASTed values from the images before them, and
/// drops a hot key's events past `maxEventsPerKey`.
///
/// It runs on the sink connection, inside the transaction that finishes the window, reading
/// the events through a cursor so that memory holds one chunk (and the key in progress), not
/// a day. The results are written as JSON arrays built with ``JSONText`` (a close folds
/// millions of keys; Foundation's encoders would allocate per value).
struct ClosingValueFold {
    let connection: PostgresConnection
    let slot: String
    /// Events kept per key and window; past it, the middle ones are dropped (`--max-events-per-key`).
    let maxEventsPerKey: Int

    /// Folds the window starting at `start` (microseconds since the epoch); returns the events
    /// left out per table (over ``maxEventsPerKey``).
    func fold(windowStart start: Int64) throws -> [String: Int] {
        let windowStart = String(start)
        // Which rule each stored image and event was captured under: a key's image from before
        // a rule change is compared only in the columns whose stored form stayed the same.
        let rules = Dictionary(grouping: try CaptureLevels.rules(slot: slot, connection), by: \.table)
        let masking = Set(rules.filter { $0.value.contains { !$0.maskedColumns.isEmpty } }.keys)
        try connection.query(SinkSQL.declareValueEventsCursor, [slot, windowStart])
        var current: KeyInProgress?
        var output = FoldOutput()
        while true {
            let chunk = try connection.simpleQuery("FETCH 5000 FROM daybook_value_events")
            for row in chunk.rows {
                let table = row[0] ?? ""
                let key = row[1] ?? ""
                let id = EventID(lsn: row[2] ?? "0/0", sequence: row[3] ?? "0")
                // Tags stored before schema 20 name no key: read as the rule's, so that they
                // compare with those stored since (the HMAC is the same).
                let tagKey = masking.contains(table) ? Self.keyID(at: row[2], rules[table] ?? []) : nil
                let event = KeyEventFold.Event(
                    operation: RowOperation(rawValue: row[4]?.utf8.first ?? 0) ?? .update,
                    newRow: Self.upgradingTags(Self.image(row[5]), keyID: tagKey),
                    oldRow: Self.upgradingTags(Self.image(row[6]), keyID: tagKey),
                    unchanged: JSONText.strings(row[7] ?? "") ?? []
                )
                if var inProgress = current, inProgress.table == table, inProgress.key == key {
                    inProgress.add(event, id: id, rules: rules[table] ?? [])
                    current = inProgress
                } else {
                    if let finished = current { output.add(finished) }
                    let previousTagKey = masking.contains(table) ? Self.keyID(at: row[10], rules[table] ?? []) : nil
                    let previous: KeyEventFold.Previous =
                        row[8] == "t" ? .image(Self.upgradingTags(Self.image(row[9]), keyID: previousTagKey)) : .none
                    current = KeyInProgress(
                        table: table,
                        key: key,
                        first: event,
                        id: id,
                        previous: previous,
                        unknownInPrevious: Self.columnsChangingForm(
                            previous,
                            storedAt: row[10].flatMap(LSN.init),
                            first: event,
                            at: LSN(id.lsn),
                            rules: rules[table] ?? []
                        ),
                        maxEvents: maxEventsPerKey
                    )
                }
            }
            // Results go out chunk by chunk: memory holds one chunk and the key in progress.
            try output.write(on: connection, slot: slot, windowStart: windowStart)
            if chunk.rows.isEmpty { break }
        }
        if let finished = current { output.add(finished) }
        try output.write(on: connection, slot: slot, windowStart: windowStart)
        try connection.simpleQuery("CLOSE daybook_value_events")
        return output.truncated
    }

    /// The columns of a key's previous image stored in another form than its next event
    /// (``CaptureRule/columnsChangingForm(_:from:to:)``); none in the usual case, one rule.
    private static func columnsChangingForm(
        _ previous: KeyEventFold.Previous,
        storedAt imageLSN: LSN?,
        first event: KeyEventFold.Event,
        at eventLSN: LSN?,
        rules: [CaptureRule]
    ) -> Set<String> {
        guard case .image(let image?) = previous, let imageLSN, let eventLSN, rules.count > 1 else { return [] }
        let earlier = CaptureRule.rule(at: imageLSN, in: rules)
        let later = CaptureRule.rule(at: eventLSN, in: rules)
        return CaptureRule.columnsChangingForm(
            namedColumns(image.keys, event, earlier, later),
            from: earlier,
            to: later
        )
    }

    /// The columns a rule change may touch between an image and an event: the image's, the
    /// event's, and every column either rule names (one kept now and not before is absent from
    /// the image, which is not a NULL).
    static func namedColumns(
        _ imageColumns: some Sequence<String>,
        _ event: KeyEventFold.Event,
        _ earlier: CaptureRule?,
        _ later: CaptureRule?
    ) -> Set<String> {
        var columns = Set(imageColumns).union((event.newRow ?? [:]).keys).union(event.unchanged)
        for rule in [earlier, later].compactMap(\.self) {
            columns.formUnion(rule.hashedColumns + rule.maskedColumns + rule.excludedColumns + (rule.columns ?? []))
        }
        return columns
    }

    /// The key id of the rule a transaction committed at `lsn` was stored under.
    private static func keyID(at lsn: String?, _ rules: [CaptureRule]) -> String? {
        lsn.flatMap(LSN.init).flatMap { CaptureRule.rule(at: $0, in: rules)?.keyID }
    }

    /// `image` with each mask tag of the form before schema 20 (``MaskedValue/tagPrefix`` and
    /// 32 hex digits) in the form since (the key's id between them): the same HMAC, so equal
    /// values still compare equal across the upgrade.
    static func upgradingTags(_ image: KeyEventFold.Image?, keyID: String?) -> KeyEventFold.Image? {
        guard var image, let keyID else { return image }
        let prefix = MaskedValue.tagPrefix
        // Bytes, not characters: counting characters would walk every value of every event.
        for (column, value) in image {
            guard let value, value.utf8.count == prefix.utf8.count + 32, value.hasPrefix(prefix) else { continue }
            image[column] = prefix + keyID + ":" + value.dropFirst(prefix.count)
        }
        return image
    }

    /// A jsonb text value as a row image (column to text or NULL).
    private static func image(_ text: String?) -> KeyEventFold.Image? {
        text.flatMap { DaybookJSON.decode(KeyEventFold.Image.self, from: $0) }
    }
}

/// Where an event is: its transaction's commit LSN and its position in it.
private struct EventID {
    var lsn: String
    var sequence: String
}

/// One key being folded at close, with the few event positions its results name: those of
/// the events that may be filled (the kept ones) and the bounds of the dropped range.
private struct KeyInProgress {
    let table: String
    let key: String
    var fold: KeyEventFold
    /// Positions of the first `maxEvents - 1` events (the ones always kept).
    var keptIDs: [EventID]
    /// Position of the first event past those, where a drop would start.
    var dropStart: EventID?
    /// Positions of the last two events: the last is kept, the one before ends a drop.
    var lastIDs: [EventID]
    let maxEvents: Int

    init(
        table: String,
        key: String,
        first: KeyEventFold.Event,
        id: EventID,
        previous: KeyEventFold.Previous,
        unknownInPrevious: Set<String>,
        maxEvents: Int
    ) {
        self.table = table
        self.key = key
        self.maxEvents = max(maxEvents, 2)
        fold = KeyEventFold(
            first: first,
            previous: previous,
            unknownInPrevious: unknownInPrevious,
            maxEvents: maxEvents
        )
        keptIDs = [id]
        lastIDs = [id]
    }

    /// Folds in the key's next event; `rules` are the table's, to tell whether the event was
    /// stored under another rule than the one before it (a rule change during the day).
    mutating func add(_ event: KeyEventFold.Event, id: EventID, rules: [CaptureRule]) {
        let index = fold.eventCount
        if rules.count > 1, let lsn = LSN(id.lsn), let previousLSN = LSN(lastIDs.last!.lsn) {
            let earlier = CaptureRule.rule(at: previousLSN, in: rules)
            let later = CaptureRule.rule(at: lsn, in: rules)
            let columns = ClosingValueFold.namedColumns(fold.imageColumns, event, earlier, later)
            fold.add(event, formChanged: CaptureRule.columnsChangingForm(columns, from: earlier, to: later))
        } else {
            fold.add(event)
        }
        if index < maxEvents - 1 { keptIDs.append(id) } else if index == maxEvents - 1 { dropStart = id }
        lastIDs = [lastIDs.last!, id]
    }

    /// The position of event `index`, if it is one of those remembered.
    func id(at index: Int) -> EventID? {
        if index < keptIDs.count { return keptIDs[index] }
        return index == fold.eventCount - 1 ? lastIDs.last : nil
    }
}

/// The results of folding a chunk of keys, written with one statement each.
private struct FoldOutput {
    var keyValues = "["
    var fills = "["
    var drops = "["
    var keyCount = 0
    /// Events left out per table, over all chunks (kept across ``write(on:slot:windowStart:)``).
    var truncated: [String: Int] = [:]

    mutating func add(_ key: KeyInProgress) {
        let fold = key.fold
        // The key as a JSON string: `value_events.key` is Daybook's canonical text, matched as text.
        let prefix = "{\"t\":" + JSONText.string(key.table) + ",\"k\":" + JSONText.string(key.key)
        Self.separate(&keyValues)
        keyValues += prefix + ",\"b\":\"\(fold.before.rawValue)\",\"n\":\(fold.eventCount),\"x\":\(fold.dropped.count)"
        keyValues += ",\"c\":" + Self.changedJSON(fold.changed) + "}"
        for filled in fold.filled {
            guard let id = key.id(at: filled.index) else { continue }
            Self.separate(&fills)
            fills +=
                prefix + ",\"l\":\"\(id.lsn)\",\"s\":\(id.sequence),\"r\":" + Self.imageJSON(filled.newRow) + ",\"u\":"
            fills +=
                filled.unchanged.isEmpty
                ? "null" : "[" + filled.unchanged.map(JSONText.string).joined(separator: ",") + "]"
            fills += "}"
        }
        if !fold.dropped.isEmpty { truncated[key.table, default: 0] += fold.dropped.count }
        if !fold.dropped.isEmpty, let from = key.dropStart, let to = key.lastIDs.first {
            Self.separate(&drops)
            drops +=
                prefix + ",\"fl\":\"\(from.lsn)\",\"fs\":\(from.sequence),\"tl\":\"\(to.lsn)\",\"ts\":\(to.sequence)}"
        }
        keyCount += 1
    }

    mutating func write(on connection: PostgresConnection, slot: String, windowStart: String) throws {
        guard keyCount > 0 else { return }
        try connection.query(SinkSQL.insertKeyValues, [slot, windowStart, keyValues + "]"])
        if fills.utf8.count > 1 {
            try connection.query(SinkSQL.fillValueEvents, [slot, windowStart, fills + "]"])
        }
        if drops.utf8.count > 1 {
            try connection.query(SinkSQL.dropValueEvents, [slot, windowStart, drops + "]"])
        }
        self = FoldOutput(truncated: truncated)
    }

    private static func separate(_ json: inout String) {
        if json.utf8.count > 1 { json.append(",") }
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
