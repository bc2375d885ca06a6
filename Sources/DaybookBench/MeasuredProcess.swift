import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process took: wall time, its own CPU time, its peak memory.
///
/// `Process` does not report a child's resource usage, so the benchmark spawns with
/// `posix_spawn` and reaps with `wait4`, which returns the kernel's exact accounting.
struct Measurement {
    var wall: Double
    var user: Double
    var system: Double
    var peakResidentBytes: Int
    var status: Int32

    var cpu: Double { user + system }
}

enum MeasuredProcess {
    /// Runs `executable` to completion with its output in `logFile` (or discarded).
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        logFile: String? = nil
    ) throws -> Measurement {
        let pid = try spawn(executable, arguments, environment: environment, logFile: logFile)
        let started = ContinuousClock.now
        return try reap(pid, started: started)
    }

    /// Starts `executable` and returns its process id; reap it with ``reap(_:started:)``.
    static func spawn(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        logFile: String? = nil
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let target = logFile ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, target, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, target, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw BenchError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Waits for `pid` and returns its accounting.
    static func reap(_ pid: pid_t, started: ContinuousClock.Instant) throws -> Measurement {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchError("wait4 failed for process \(pid) (errno \(errno))") }
        }
        let wall = ContinuousClock.now - started
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        let exit: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Measurement(
            wall: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18,
            user: seconds(usage.ru_utime),
            system: seconds(usage.ru_stime),
            peakResidentBytes: usage.ru_maxrss * 1024,
            status: exit
        )
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
