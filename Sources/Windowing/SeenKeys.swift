/// The keys already written for one open window: a set of 32-bit fingerprints that answers
/// "has this key possibly been written before?" with no false negatives.
///
/// Why it exists: each checkpoint appends one row per key it touched, so a key changed in
/// several checkpoints has several rows, and closing the window must merge them. Finding those
/// keys in the sink means grouping every row of the day (12 s for 10,000,000 keys on a small
/// machine, in the transaction that closes the window). Flagging the rows when they are
/// written instead lets the close merge only the flagged keys' rows.
///
/// A "no" is certain, since every key inserted is found again; a "yes" is wrong only when
/// another key shares the fingerprint (about `count / 2³²`: 0.2 % at 10,000,000 keys), which
/// costs the close one needless merge of a one-row key, never a wrong result. Memory is 4
/// bytes per slot at most three quarters full (about 64 MiB for 12,000,000 keys); past
/// `maximumSlots` the set stops growing and says "possibly" for every key it does not hold,
/// so memory stays bounded and results stay right, only the close does more work.
public struct SeenKeys: Sendable {
    /// 0 is an empty slot; a fingerprint of 0 is stored as 1.
    private var slots: [UInt32]
    private var shift: Int
    public private(set) var count = 0
    /// Set once the set is full: from then on, unknown keys are answered "possibly seen".
    public private(set) var isSaturated = false
    public let maximumSlots: Int

    /// - Parameter maximumSlots: a power of two; the set holds at most three quarters of it.
    public init(maximumSlots: Int = 1 << 24) {
        precondition(maximumSlots >= 1024 && maximumSlots & (maximumSlots - 1) == 0, "a power of two, at least 1024")
        self.maximumSlots = maximumSlots
        slots = [UInt32](repeating: 0, count: 1024)
        shift = 32 - 10
    }

    /// The largest power-of-two slot count that fits in `bytes` (at least 1,024).
    public static func slots(forBytes bytes: Int) -> Int {
        var slots = 1024
        while slots * 2 * MemoryLayout<UInt32>.stride <= bytes { slots *= 2 }
        return slots
    }

    /// Bytes held, for the service's memory figures.
    public var byteCount: Int { slots.count * MemoryLayout<UInt32>.stride }

    /// Records a key by its 64-bit hash; returns whether it was possibly recorded before.
    public mutating func insert(hash: UInt64) -> Bool {
        let fingerprint = Self.fingerprint(hash)
        if let found = probe(fingerprint) { return found }
        if (count + 1) * 4 > slots.count * 3 {
            guard slots.count < maximumSlots else {
                isSaturated = true
                return true
            }
            grow()
        }
        var slot = position(fingerprint)
        while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
        slots[slot] = fingerprint
        count += 1
        return false
    }

    /// Whether a key with this hash was possibly recorded, without recording it.
    public func contains(hash: UInt64) -> Bool {
        probe(Self.fingerprint(hash)) ?? isSaturated
    }

    /// True when found, false when certainly absent, nil when absent (insertable).
    private func probe(_ fingerprint: UInt32) -> Bool? {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var slot = position(fingerprint)
            while true {
                let value = slots[slot]
                if value == 0 { return isSaturated ? true : nil }
                if value == fingerprint { return true }
                slot = (slot + 1) & mask
            }
        }
    }

    private static func fingerprint(_ hash: UInt64) -> UInt32 {
        let folded = UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
        return folded == 0 ? 1 : folded
    }

    /// The home slot depends on the fingerprint alone, so growing needs no original keys.
    private func position(_ fingerprint: UInt32) -> Int {
        Int((fingerprint &* 0x9E37_79B1) >> UInt32(shift))
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt32](repeating: 0, count: old.count * 2)
        shift -= 1
        let mask = slots.count - 1
        for fingerprint in old where fingerprint != 0 {
            var slot = position(fingerprint)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = fingerprint
        }
    }
}
