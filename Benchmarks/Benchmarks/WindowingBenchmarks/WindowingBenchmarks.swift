import Benchmark
import Foundation
import Windowing

/// The windowing engine's per-change path: one keyed operation per inner iteration (the `*`
/// figures are per change), the batch handed over and emptied every 50,000 changes as the
/// service's checkpoints do.
let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident], timeUnits: .nanoseconds,
        scalingFactor: .kilo, maxDuration: .seconds(3))
    let window = Timestamp(secondsSinceEpoch: 1_795_392_000)
    let time = Timestamp(secondsSinceEpoch: 1_795_400_000)

    for keyCount in [100_000, 10_000_000] {
        // Canonical keys as the service builds them, back to back in one arena.
        var arena: [UInt8] = []
        var offsets: [Int] = [0]
        for id in 0..<keyCount {
            arena.append(contentsOf: #"{"id":"\#(id)"}"#.utf8)
            offsets.append(arena.count)
        }
        let label = keyCount == 100_000 ? "100k" : "10M"

        Benchmark("engine: \(label) distinct keys, batches of 50,000 changes", configuration: configuration) { benchmark in
            var batch = ChangeBatch()
            let table = batch.tableIndex("public.orders")
            let day = Window(start: window, end: Timestamp(secondsSinceEpoch: 1_795_478_400))
            var next = 0
            var random = UInt64(0x9E37_79B9_7F4A_7C15)
            arena.withUnsafeBytes { keys in
                for _ in benchmark.scaledIterations {
                    // Hot keys come at random; with 10M keys nearly every change is a new key.
                    random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let key = Int((random >> 33) % UInt64(keyCount))
                    batch.countChange(.update, table: table, window: day, at: time)
                    batch.addKeyOperation(
                        .update, key: UnsafeRawBufferPointer(rebasing: keys[offsets[key]..<offsets[key + 1]]), table: table,
                        windowStart: window, at: time)
                    next += 1
                    if next == 50_000 {
                        blackHole(batch.keyTable.count)
                        batch.reset()
                        next = 0
                    }
                }
            }
        }
    }

    // What a checkpoint adds per key row: hashing the table and key, and remembering it in
    // the window's written keys (the sink's `rememberKey`), over ten million distinct keys.
    var keyArena: [UInt8] = []
    var keyOffsets: [Int] = [0]
    for id in 0..<10_000_000 {
        keyArena.append(contentsOf: #"{"id":"\#(id)"}"#.utf8)
        keyOffsets.append(keyArena.count)
    }
    Benchmark("seen keys: 10M distinct keys hashed and remembered", configuration: configuration) { benchmark in
        var seen = SeenKeys()
        let table = Array("public.orders".utf8)
        var next = 0
        keyArena.withUnsafeBytes { keys in
            for _ in benchmark.scaledIterations {
                var hasher = Hasher()
                table.withUnsafeBytes { hasher.combine(bytes: $0) }
                hasher.combine(0 as UInt8)
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: keys[keyOffsets[next]..<keyOffsets[next + 1]]))
                blackHole(seen.insert(hash: UInt64(bitPattern: Int64(hasher.finalize()))))
                next += 1
                if next == 10_000_000 {
                    seen = SeenKeys()
                    next = 0
                }
            }
        }
    }
}
