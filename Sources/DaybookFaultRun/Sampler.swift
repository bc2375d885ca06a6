import Foundation
import PostgresReplication

/// Samples the resident memory of `daybook run` and the WAL its slot retains, for the soak
/// run: both must stay flat under steady load.
struct Sampler {
    struct Sample {
        var seconds: Double
        var residentKiB: Int
        var retainedBytes: Int
    }

    private(set) var samples: [Sample] = []
    private let started = Date()

    /// Resident set size of a process in KiB, from /proc.
    static func residentKiB(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    mutating func sample(pid: Int32, source: PostgresConnection, slot: String) -> Sample? {
        guard let resident = Self.residentKiB(of: pid),
            let retained = try? source.query(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1",
                [slot]
            ).scalar.flatMap({ Int($0) })
        else { return nil }
        let sample = Sample(seconds: Date().timeIntervalSince(started), residentKiB: resident, retainedBytes: retained)
        samples.append(sample)
        return sample
    }

    /// Average resident memory of the first and last quarter, after the first tenth (warm-up).
    var residentTrend: (early: Double, late: Double)? {
        let steady = Array(samples.dropFirst(samples.count / 10))
        guard steady.count >= 4 else { return nil }
        let quarter = steady.count / 4
        func average(_ part: ArraySlice<Sample>) -> Double {
            Double(part.map(\.residentKiB).reduce(0, +)) / Double(part.count)
        }
        return (average(steady.prefix(quarter)), average(steady.suffix(quarter)))
    }
}
