import Daybook
import Testing

struct DurationTextTests {
    @Test(arguments: [
        ("2s", Int64(2)), ("15m", 900), ("1h", 3600), ("1d", 86_400), ("1h30m", 5400), ("0s", 0), ("90S", 90),
    ])
    func parsesSeconds(text: String, seconds: Int64) throws {
        #expect(try DurationText.seconds(text) == seconds)
    }

    @Test func parsesMilliseconds() throws {
        #expect(try DurationText.milliseconds("500ms") == 500)
        #expect(try DurationText.milliseconds("1s500ms") == 1500)
        #expect(try DurationText.duration("200ms") == .milliseconds(200))
    }

    @Test(arguments: ["", "5", "s", "5x", "1.5h", "-1s", "1h 30m", "99999999999999999999d", "500ms2"])
    func rejectsMalformedText(text: String) {
        #expect(throws: DurationText.InvalidDuration.self) { try DurationText.milliseconds(text) }
    }

    @Test func secondsMustBeWhole() {
        #expect(throws: DurationText.InvalidDuration.self) { try DurationText.seconds("1500ms") }
    }

    @Test func formatsShortest() {
        #expect(DurationText.format(seconds: 90) == "1m30s")
        #expect(DurationText.format(seconds: 86_400) == "1d")
        #expect(DurationText.format(seconds: 0) == "0s")
    }
}
