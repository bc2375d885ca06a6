import Foundation
import Windowing

/// The stable id of one day's delivery to one destination: the same on every attempt, so that
/// a receiver can recognise the one unavoidable repeat (sent, accepted, and the sender gone
/// before the sink recorded it). A webhook carries it as `Idempotency-Key`, an email as its
/// `Message-ID`.
public struct DeliveryID: Sendable, Hashable, CustomStringConvertible {
    public var slot: String
    public var windowStart: Timestamp
    public var destination: String

    public init(slot: String, windowStart: Timestamp, destination: String) {
        self.slot = slot
        self.windowStart = windowStart
        self.destination = destination
    }

    /// `SLOT/2026-12-06T00:00:00+00:00/DESTINATION`: the window's start in UTC.
    public var description: String {
        "\(slot)/\(Self.utc(windowStart, basic: false))/\(destination)"
    }

    /// `<SLOT.20261206T000000Z.DESTINATION@daybook>`: the same facts in the characters a
    /// Message-ID allows (slot and destination names are letters, digits, `_` and `-`).
    public var messageID: String {
        "<\(slot).\(Self.utc(windowStart, basic: true)).\(destination)@daybook>"
    }

    private static func utc(_ time: Timestamp, basic: Bool) -> String {
        let text = time.iso8601(in: TimeZone(identifier: "UTC")!)
        guard basic else { return text }
        return text.replacingOccurrences(of: "+00:00", with: "Z").replacingOccurrences(of: "-", with: "")
            .replacingOccurrences(of: ":", with: "")
    }
}
