import Foundation
import PostgresReplication

/// What a server spent while a client drained a backlog: the CPU of all its
/// processes and the temporary files its backends wrote.
///
/// CPU is read from `/proc` (the server must run on this machine): the postmaster's own time
/// plus the time of the children it has reaped (exited backends and walsenders), plus the
/// time of its live children. Temporary files are `pg_stat_database.temp_bytes` of the
/// backlog's database (the SQL decoding functions materialise their result there; a
/// walsender's spill files are not counted here, they go to `pg_replslot`).
struct ServerUsage {
    var cpuSeconds: Double
    var tempBytes: Int64

    static let zero = ServerUsage(cpuSeconds: 0, tempBytes: 0)

    static func - (after: ServerUsage, before: ServerUsage) -> ServerUsage {
        ServerUsage(cpuSeconds: after.cpuSeconds - before.cpuSeconds, tempBytes: after.tempBytes - before.tempBytes)
    }

    /// Reads the server behind `connectionString`; CPU is NaN when it is not on this machine.
    static func read(_ connectionString: String) throws -> ServerUsage {
        let connection = try PostgresConnection(ConnectionString(connectionString))
        let row = try connection.query(
            "SELECT pg_backend_pid()::text, temp_bytes::text FROM pg_stat_database WHERE datname = current_database()"
        ).rows.first
        let backend = row?[0].flatMap { Int32($0) } ?? 0
        let tempBytes = row?[1].flatMap { Int64($0) } ?? 0
        guard let postmaster = processStat(backend)?.parent, let own = processStat(postmaster) else {
            return ServerUsage(cpuSeconds: .nan, tempBytes: tempBytes)
        }
        var ticks = own.ticks + own.childTicks
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), pid != backend, let stat = processStat(pid), stat.parent == postmaster else {
                continue
            }
            ticks += stat.ticks
        }
        return ServerUsage(cpuSeconds: Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))), tempBytes: tempBytes)
    }

    /// Fields of `/proc/PID/stat`: parent, user+system ticks, reaped children's ticks.
    private static func processStat(_ pid: Int32) -> (parent: Int32, ticks: Int, childTicks: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": state is field 3; ppid 4, utime 14, stime 15, cutime 16, cstime 17.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 15, let parent = Int32(fields[1]), let utime = Int(fields[11]),
            let stime = Int(fields[12]),
            let cutime = Int(fields[13]), let cstime = Int(fields[14])
        else { return nil }
        return (parent, utime + stime, cutime + cstime)
    }
}
