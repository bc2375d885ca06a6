import Foundation
import Synchronization

/// The slot's lag over the last hour, one sample per `interval`: what the dashboard's lag
/// chart draws. Fed by the pipeline at its status updates (`run`), or by a sampler reading the
/// source's slot (`serve`); read by the HTTP side.
public final class LagHistory: Sendable {
    public struct Sample: Sendable, Equatable {
        /// Unix seconds.
        public var time: Double
        public var bytes: Double
        public var seconds: Double
    }

    private let samples = Mutex<[Sample]>([])
    public let interval: Double
    public let capacity: Int

    /// One sample per `interval` seconds, `capacity` of them (an hour of 10-second samples).
    public init(interval: Double = 10, capacity: Int = 360) {
        self.interval = interval
        self.capacity = capacity
    }

    /// Records a reading; within `interval` of the last sample it keeps the larger lag, so a
    /// spike between samples still shows.
    public func record(time: Double = Date().timeIntervalSince1970, bytes: Double, seconds: Double) {
        samples.withLock { samples in
            if let last = samples.last, time - last.time < interval {
                samples[samples.count - 1].bytes = max(last.bytes, bytes)
                samples[samples.count - 1].seconds = max(last.seconds, seconds)
                return
            }
            samples.append(Sample(time: time, bytes: bytes, seconds: seconds))
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    public var all: [Sample] { samples.withLock { $0 } }
}
