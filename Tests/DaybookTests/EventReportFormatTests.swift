import Daybook
import DaybookCore
import Testing

/// `report --events` in each format, from a line as the sink's SQL builds it (spaces and all).
struct EventReportFormatTests {
    private let line = """
        {"window_start" : "2026-12-05", "window_end" : "2026-12-06", "table" : "app.orders", "key" : {"id": "7"}, \
        "ops" : "IU", "net" : "inserted", "before" : "absent", "changed" : {"note": {"after": "a/b"}, \
        "qty": {"after": "2"}}, "truncated" : false, "events_left_out" : 0, "events" : [{"op": "I", \
        "at": "2026-12-05T10:00:00Z", "lsn": "0/10", "row": {"id": "7", "note": "a/b", "qty": "1"}}, \
        {"op": "U", "at": "2026-12-05T11:00:00Z", "lsn": "0/20", "row": {"id": "7", "note": "a/b", "qty": "2"}, \
        "unchanged": ["doc"], "actor": {"actor": "alice", "application": "web"}}]}
        """

    @Test func jsonIsTheLineAsItCameInTheCompactStyle() throws {
        let json = EventReportFormat.render([line], as: .json)
        #expect(
            json.hasPrefix(
                #"{"window_start":"2026-12-05","window_end":"2026-12-06","table":"app.orders","key":{"id":"7"}"#
            )
        )
        #expect(!json.contains("\" : ") && !json.contains(", \"") && json.hasSuffix("}\n"))
        // The same value as the line it came from.
        let parsed = try #require(DaybookJSON.decode(JSONValue.self, from: json))
        #expect(parsed == DaybookJSON.decode(JSONValue.self, from: line))
    }

    @Test func csvHasOneRowPerEventWithJSONValuesWrittenOneWay() {
        let csv = EventReportFormat.render([line], as: .csv).split(separator: "\n").map(String.init)
        #expect(
            csv == [
                "window_start,window_end,table,key,ops,net,op,at,lsn,row,old_key,new_key,old_row,unchanged,actor",
                #"2026-12-05,2026-12-06,app.orders,"{""id"":""7""}",IU,inserted,I,2026-12-05T10:00:00Z,0/10,"{""id"":""7"",""note"":""a/b"",""qty"":""1""}",,,,,"#,
                #"2026-12-05,2026-12-06,app.orders,"{""id"":""7""}",IU,inserted,U,2026-12-05T11:00:00Z,0/20,"{""id"":""7"",""note"":""a/b"",""qty"":""2""}",,,,"[""doc""]","{""actor"":""alice"",""application"":""web""}""#,
            ]
        )
    }

    @Test func textSaysWhatEachEventChanged() {
        #expect(
            EventReportFormat.render([line], as: .text) == """
                2026-12-05  app.orders  {"id":"7"}  IU  inserted
                  changed: note: (none) → a/b; qty: (none) → 2
                  10:00:00  I  id=7, note=a/b, qty=1
                  11:00:00  U  qty=2, doc=(unchanged, value not known) (by alice through web)

                """
        )
    }

    @Test func aLineThatIsNoObjectIsLeftOut() {
        #expect(EventReportFormat.render(["[1]", "not json"], as: .text) == "")
    }
}
