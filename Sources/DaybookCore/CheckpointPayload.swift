import WAL
import Windowing

/// Encodes a checkpoint's parts as the JSON arrays the sink's set-based statements read
/// with `jsonb_to_recordset`: one parameter per statement, however many rows.
package enum CheckpointPayload {
    package static func tables(_ tables: [(id: TableWindowID, delta: TableDelta)]) -> String {
        var json = "["
        for (id, delta) in tables {
            if json.count > 1 { json.append(",") }
            json.append("{\"ws\":\(id.windowStart.microsecondsSinceEpoch),\"t\":")
            JSONText.appendString(id.table, to: &json)
            json.append(
                ",\"i\":\(delta.inserts),\"u\":\(delta.updates),\"d\":\(delta.deletes),\"tr\":\(delta.truncates)"
                    + ",\"tx\":\(delta.transactions),\"f\":\(delta.firstChange.microsecondsSinceEpoch)"
                    + ",\"l\":\(delta.lastChange.microsecondsSinceEpoch),\"lv\":\(delta.levels)}"
            )
        }
        json.append("]")
        return json
    }

    package static func late(_ late: [LateChange]) -> String {
        var json = "["
        for (index, change) in late.enumerated() {
            if index > 0 { json.append(",") }
            json.append(
                "{\"ws\":\(change.window.start.microsecondsSinceEpoch),\"we\":\(change.window.end.microsecondsSinceEpoch),\"t\":"
            )
            JSONText.appendString(change.table, to: &json)
            json.append(",\"k\":\(change.key ?? "null"),\"o\":\"\(change.operation.letter)\"")
            json.append(
                ",\"ct\":\(change.commitTime.microsecondsSinceEpoch),\"lsn\":\"\(change.lsn)\",\"x\":\(change.xid)}"
            )
        }
        json.append("]")
        return json
    }

    package static func captureRules(_ rules: [CaptureRule]) -> String {
        var json = "["
        for (index, rule) in rules.enumerated() {
            if index > 0 { json.append(",") }
            json.append("{\"t\":")
            JSONText.appendString(rule.table, to: &json)
            json.append(",\"l\":\"\(rule.level.rawValue)\",\"c\":")
            appendArray(rule.columns, to: &json)
            json.append(",\"e\":")
            appendArray(rule.excludedColumns, to: &json)
            json.append(",\"h\":")
            appendArray(rule.hashedColumns, to: &json)
            json.append(",\"m\":")
            appendArray(rule.maskedColumns, to: &json)
            json.append(",\"kf\":")
            appendString(rule.keyFile, to: &json)
            json.append(",\"ki\":")
            appendString(rule.keyID, to: &json)
            json.append(",\"s\":\"\(rule.sinceLSN)\"}")
        }
        json.append("]")
        return json
    }

    private static func appendString(_ string: String?, to json: inout String) {
        if let string { JSONText.appendString(string, to: &json) } else { json.append("null") }
    }

    private static func appendArray(_ strings: [String]?, to json: inout String) {
        guard let strings else {
            json.append("null")
            return
        }
        json.append("[")
        for (index, string) in strings.enumerated() {
            if index > 0 { json.append(",") }
            JSONText.appendString(string, to: &json)
        }
        json.append("]")
    }

    /// Attributed changes (``AttributionTally``) for the sink's set-based upsert, tables named
    /// by the batch's `tableNames`.
    package static func attribution(_ tally: AttributionTally, tableNames: [String]) -> String {
        struct Row: Encodable {
            var ws: Int64
            var t: String
            var a: String
            var p: String
            var o: String
            var n: Int
        }
        let rows = tally.counts.map { entry, count in
            let who = tally.attributions[Int(entry.attribution)]
            return Row(
                ws: entry.windowStart.microsecondsSinceEpoch,
                t: tableNames[Int(entry.table)],
                a: who.actor,
                p: who.application,
                o: who.origin,
                n: count
            )
        }
        return DaybookJSON.text(rows)
    }

    package static func opened(_ windows: [Window], grace: Duration) -> String {
        "["
            + windows.map {
                "{\"ws\":\($0.start.microsecondsSinceEpoch),\"we\":\($0.end.microsecondsSinceEpoch),"
                    + "\"c\":\(($0.end + grace).microsecondsSinceEpoch)}"
            }.joined(separator: ",") + "]"
    }

    package static func closed(_ closures: [WindowClosure]) -> String {
        "["
            + closures.map {
                "{\"ws\":\($0.window.start.microsecondsSinceEpoch),\"r\":\"\($0.reason.rawValue)\","
                    + "\"st\":\($0.streamTime.microsecondsSinceEpoch)}"
            }.joined(separator: ",") + "]"
    }
}
