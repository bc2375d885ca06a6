import Daybook
import Foundation
import Testing

struct ReportFormatTests {
    private let table = ReportTable(
        columns: [
            .init(name: "table", kind: .text), .init(name: "inserts", kind: .number), .init(name: "key", kind: .json),
        ],
        rows: [["app.a", "3", #"{"id": "1"}"#], ["app.\"b\",x", "12", nil]]
    )

    @Test func jsonIsOneTypedObjectPerLine() throws {
        let lines = ReportFormat.json.render(table).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["table"] as? String == "app.a")
        #expect(first["inserts"] as? Int == 3)
        #expect((first["key"] as? [String: String]) == ["id": "1"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["table"] as? String == "app.\"b\",x")
        #expect(second["key"] is NSNull)
    }

    @Test func csvQuotesWhatNeedsQuoting() {
        #expect(
            ReportFormat.csv.render(table)
                == "table,inserts,key\napp.a,3,\"{\"\"id\"\": \"\"1\"\"}\"\n\"app.\"\"b\"\",x\",12,\n"
        )
    }

    @Test func textAlignsColumnsAndRightAlignsNumbers() {
        let lines = ReportFormat.text.render(table).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "table      inserts  key")
        #expect(lines[1] == "---------  -------  -----------")
        #expect(lines[2] == "app.a            3  {\"id\": \"1\"}")
        #expect(lines[3] == "app.\"b\",x       12")
    }
}
