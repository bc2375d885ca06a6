import DaybookCore
import Testing

/// The one JSON codec: what it keeps as it was, and what it writes the same way everywhere.
struct DaybookJSONTests {
    @Test func anyJSONRoundTripsWithItsKeysAsTheyWere() throws {
        let text =
            #"{"createdAt":"2026-12-06","id":5,"note":null,"ok":true,"price":1.5,"#
            + #""tags":["a","b"],"x_y":{"Inner":"v"}}"#
        let value = try #require(DaybookJSON.decode(JSONValue.self, from: text))
        // Column names are data: the encoder's snake_case strategy must not touch them.
        #expect(DaybookJSON.text(value) == text)
        #expect(value["id"] == .integer(5))
        #expect(value["price"] == .number(1.5))
        #expect(value["note"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(value["tags"]?.array?.compactMap(\.string) == ["a", "b"])
    }

    @Test func slashesAndControlCharactersAreWrittenOneWay() {
        #expect(DaybookJSON.text(JSONValue.string("a/b\u{1}\"")) == #""a/b\u0001\"""#)
        #expect(DaybookJSON.text(["path": "/api/v1"]) == #"{"path":"/api/v1"}"#)
    }

    @Test func typedValuesGetSnakeCaseKeysBothWays() throws {
        struct Page: Codable, Equatable {
            var nextCursor: String?
            var itemCount: Int
        }
        let page = Page(nextCursor: "abc", itemCount: 2)
        #expect(DaybookJSON.text(page) == #"{"item_count":2,"next_cursor":"abc"}"#)
        #expect(DaybookJSON.decode(Page.self, from: DaybookJSON.text(page)) == page)
    }

    @Test func whatIsNotJSONDecodesToNothing() {
        #expect(DaybookJSON.decode(JSONValue.self, from: "{\"a\":") == nil)
        #expect(DaybookJSON.decode([String].self, from: "{}") == nil)
        #expect(DaybookJSON.decode(JSONValue.self, from: "") == nil)
    }
}

/// One compact style for every JSON Daybook prints (issue 29): PostgreSQL's spacing removed,
/// strings untouched.
struct CompactJSONTextTests {
    @Test func whitespaceBetweenTokensGoesAndStringsStay() {
        #expect(
            JSONText.compact(#"{"window_start" : "2026-12-05", "key": {"id": "4 2"}}"#)
                == #"{"window_start":"2026-12-05","key":{"id":"4 2"}}"#
        )
        #expect(JSONText.compact("[1, 2,\n 3]") == "[1,2,3]")
        #expect(
            JSONText.compact(#"{"a": "quote \" : , here", "b\\": null}"#) == #"{"a":"quote \" : , here","b\\":null}"#
        )
        #expect(JSONText.compact(#"{"é": "ü ß"}"#) == #"{"é":"ü ß"}"#)
        #expect(JSONText.compact("") == "")
    }
}
