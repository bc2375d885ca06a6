import Testing

@testable import DaybookCore

/// The keyed hash of captured values, with values: what any HMAC-SHA256 computes (the figures
/// are Python's `hmac`), a key too short refused, the key never printed.
struct ValueKeyTests {
    private let key = ValueKey(Array(repeating: UInt8(ascii: "k"), count: 32))!

    @Test func theHashIsHMACSHA256OfTheValueAsPythonComputesIt() {
        #expect(key.hash("hello") == "hmac:b77dedb81d7deb352f617552af07a682c4267366ef53870025bc48b701c8a76d")
        #expect(key.id == "a6cd140fd467d7c2")
        #expect(key.hash("hello") == key.hash("hello"))
        #expect(key.hash("hello") != key.hash("hello "))
    }

    @Test func aShortKeyIsRefusedAndTheKeyNeverPrints() {
        #expect(ValueKey(Array(repeating: 1, count: 31)) == nil)
        #expect(!"\(key)".contains("kkkk") && !"\(key)".contains("107, 107"), "\(key)")
        #expect(!String(reflecting: key).contains("107, 107"), "\(String(reflecting: key))")
    }
}
