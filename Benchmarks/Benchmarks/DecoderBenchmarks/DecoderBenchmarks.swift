import Benchmark
import DaybookCore
import Foundation
import PgOutput
import WAL
import Windowing

/// The decoder on recorded streams, one message per inner iteration (the `*` figures are
/// per message), reading from the same kind of buffer the service reads from.
let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
    let configuration = Benchmark.Configuration(
        metrics: metrics, timeUnits: .nanoseconds, scalingFactor: .kilo, maxDuration: .seconds(3))

    for name in ["narrow", "wide", "toasted"] {
        let messages = RecordedStream.load(name)
        // The messages back to back in one buffer, each decoded from its own slice, as libpq
        // hands them over.
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: messages.reduce(0) { $0 + $1.count }, alignment: 8)
        var ranges: [Range<Int>] = []
        var offset = 0
        for message in messages {
            message.withUnsafeBytes { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            ranges.append(offset..<(offset + message.count))
            offset += message.count
        }
        let bytes = UnsafeRawBufferPointer(buffer)
        let averageBytes = offset / messages.count

        Benchmark("decode \(name) rows (\(messages.count) recorded messages, \(averageBytes) B each)", configuration: configuration) {
            benchmark in
            var index = 0
            for _ in benchmark.scaledIterations {
                blackHole(try? PgOutputDecoder.decodeInPlace(UnsafeRawBufferPointer(rebasing: bytes[ranges[index]])))
                index = index + 1 == ranges.count ? 0 : index + 1
            }
        }

        // Decoding plus everything the service does per message before the sink: keys built,
        // operations recorded, checkpoints taken every 50,000 changes.
        Benchmark("decode and process \(name) rows", configuration: configuration) { benchmark in
            var processor = ChangeProcessor(
                engine: WindowingEngine(
                    calendar: WindowCalendar(length: .days(1), timeZone: TimeZone(identifier: "UTC")!), grace: .seconds(1800)),
                committedLSN: 0)
            var index = 0
            var lsnShift: UInt64 = 0
            for _ in benchmark.scaledIterations {
                let message = UnsafeRawBufferPointer(rebasing: bytes[ranges[index]])
                if let decoded = try? PgOutputDecoder.decodeInPlace(message) {
                    try? processor.process(shifted(decoded, by: lsnShift), in: message)
                }
                index += 1
                if index == ranges.count {
                    // Replays must not look like replays (commit LSNs below the checkpoint).
                    index = 0
                    lsnShift += 1 << 40
                }
                if !processor.inTransaction, processor.pendingChanges >= 50_000, let checkpoint = processor.takeCheckpoint() {
                    processor.checkpointCommitted(lsn: checkpoint.lsn)
                    blackHole(checkpoint)
                }
            }
        }
    }
}

/// The message with its transaction LSNs moved on by `shift`, so that a replayed recording
/// counts as new transactions.
func shifted(_ message: InPlaceMessage, by shift: UInt64) -> InPlaceMessage {
    switch message {
    case .begin(var begin):
        begin.finalLSN = LSN(begin.finalLSN.rawValue + shift)
        return .begin(begin)
    case .commit(var commit):
        commit.commitLSN = LSN(commit.commitLSN.rawValue + shift)
        commit.endLSN = LSN(commit.endLSN.rawValue + shift)
        return .commit(commit)
    default:
        return message
    }
}
