import Synchronization

/// A one-way flag that asks the replication thread to stop at the next safe point.
///
/// The pipeline runs on its own thread (libpq blocks), so cancellation from Swift
/// concurrency reaches it through this atomic rather than through task cancellation.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func stop() { flag.store(true, ordering: .relaxed) }
    public var isStopped: Bool { flag.load(ordering: .relaxed) }
}
