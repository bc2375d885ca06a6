import Foundation
import Prometheus
import Synchronization

/// The process metrics every Prometheus client exports (`process_cpu_seconds_total`,
/// `process_resident_memory_bytes`, …), read from `/proc/self` when scraped.
///
/// No package of the Swift server ecosystem available here exports them, and they are a few
/// reads of Linux's own files; on a system without `/proc` they are simply absent.
final class ProcessMetrics: Sendable {
    private let cpu: Counter
    private let resident: Gauge
    private let virtualMemory: Gauge
    private let openFiles: Gauge
    private let maxFiles: Gauge
    private let startTime: Gauge
    private let reportedCPU: Mutex<Double>

    init(registry: PrometheusCollectorRegistry) {
        func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        cpu = registry.makeCounter(
            descriptor: descriptor("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
        )
        resident = registry.makeGauge(
            descriptor: descriptor("process_resident_memory_bytes", "Resident memory size in bytes.")
        )
        virtualMemory = registry.makeGauge(
            descriptor: descriptor("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        )
        openFiles = registry.makeGauge(descriptor: descriptor("process_open_fds", "Number of open file descriptors."))
        maxFiles = registry.makeGauge(
            descriptor: descriptor("process_max_fds", "Maximum number of open file descriptors.")
        )
        startTime = registry.makeGauge(
            descriptor: descriptor(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds."
            )
        )
        reportedCPU = Mutex(0)
    }

    /// Reads the current figures into the registry's metrics.
    func update() {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name (which may hold spaces), from field 3 on.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
            if let user = field(14), let system = field(15), ticks > 0 {
                let total = (user + system) / ticks
                let delta = reportedCPU.withLock { reported -> Double in
                    defer { reported = max(reported, total) }
                    return total - reported
                }
                if delta > 0 { cpu.increment(by: delta) }
            }
            if let size = field(23) { virtualMemory.set(to: size) }
            if let pages = field(24) { resident.set(to: pages * pageSize) }
            if let started = field(22), ticks > 0, let boot = Self.bootTime() {
                startTime.set(to: boot + started / ticks)
            }
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFiles.set(to: Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFiles.set(to: Double(limit.rlim_cur)) }
    }

    private static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6))
        }
        return nil
    }
}
