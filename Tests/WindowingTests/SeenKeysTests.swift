import Testing
import Windowing

@Suite struct SeenKeysTests {
    /// A well-mixed 64-bit hash of `value`, standing in for a key's hash.
    private func hash(_ value: UInt64) -> UInt64 {
        var x = value &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    @Test func aKeySeenOnceIsFoundEveryTimeAfter() {
        var seen = SeenKeys()
        for value in 0..<200_000 as Range<UInt64> { _ = seen.insert(hash: hash(value)) }
        for value in 0..<200_000 as Range<UInt64> {
            #expect(seen.contains(hash: hash(value)), "no false negative, also across growth")
            if !seen.contains(hash: hash(value)) { break }
        }
        for value in 0..<200_000 as Range<UInt64> where !seen.insert(hash: hash(value)) {
            Issue.record("key \(value) was inserted before but reported new")
            break
        }
    }

    @Test func newKeysAreMostlyReportedNew() {
        var seen = SeenKeys()
        var firstTimeNew = 0
        for value in 0..<100_000 as Range<UInt64> where !seen.insert(hash: hash(value)) { firstTimeNew += 1 }
        // Fingerprints collide about count / 2³² of the time: a handful at most here.
        #expect(firstTimeNew > 99_990)
        #expect(seen.count == firstTimeNew)
    }

    @Test func aFullSetSaysPossiblyForUnknownKeysAndStopsGrowing() {
        var seen = SeenKeys(maximumSlots: 1024)
        var reportedNew = 0
        for value in 0..<2_000 as Range<UInt64> where !seen.insert(hash: hash(value)) { reportedNew += 1 }
        #expect(seen.isSaturated)
        #expect(reportedNew == 768, "three quarters of 1,024 slots, then every unknown key is 'possibly seen'")
        #expect(seen.byteCount == 4096)
        #expect(seen.contains(hash: hash(1_000_000)))
        let heldKeyFound = seen.insert(hash: hash(0))
        #expect(heldKeyFound, "keys held before saturation are still found")
    }
}
