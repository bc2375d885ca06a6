/// A 64-bit linear congruential generator (Knuth's MMIX constants): the same seed gives the
/// same numbers on every platform and Swift version, so randomized tests stay reproducible.
struct SeededGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }

    /// A number in `0..<bound` from the generator's high bits (the low bits of an LCG are weak).
    mutating func next(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int((next() >> 32) % UInt64(bound))
    }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 56) }
}
