import DaybookCore
import Testing

/// One human form of a duration wherever people read one (issue 29).
struct HumanDurationTests {
    @Test(arguments: [
        (0.0, "0 s"), (0.3, "0.3 s"), (5, "5 s"), (5.31, "5.3 s"), (9.96, "10 s"), (59.6, "1 min"),
        (200, "3 min 20 s"), (185, "3 min 05 s"), (3600, "1 h"), (7500, "2 h 05 min"), (86_400, "1 d"),
        (93_600, "1 d 2 h"), (-5, "-5 s"), (-200, "-3 min 20 s"), (1_000_000, "11 d 13 h"),
    ])
    func seconds(value: Double, words: String) {
        #expect(HumanDuration.text(seconds: value) == words)
    }

    @Test(arguments: [
        ("00:00:05.311986", "5.3 s"), ("-00:00:03", "-3 s"), ("00:03:20", "3 min 20 s"), ("1 day 02:00:00", "1 d 2 h"),
        ("3 days", "3 d"), ("02:05:00", "2 h 05 min"), ("-1 days -00:00:01", "-1 d"),
    ])
    func postgresIntervals(interval: String, words: String) {
        #expect(HumanDuration.text(interval: interval) == words)
    }

    @Test func textThatIsNoIntervalIsNil() {
        #expect(HumanDuration.text(interval: "1 mon") == nil)
        #expect(HumanDuration.text(interval: "soon") == nil)
        #expect(HumanDuration.text(seconds: .infinity) == "?")
    }
}
