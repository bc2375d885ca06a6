import DaybookTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What systemd sees of `daybook run` under `daybook@.service`: readiness, status, the watchdog
/// and the stop over `$NOTIFY_SOCKET`, and exit codes that tell `Restart=` whether trying again
/// can help (`RestartPreventExitStatus=2 4 5 64` in the unit; `scripts/test-package` checks the
/// installed unit against the same codes).
@Suite(.serialized)
struct ServiceManagerTests {
    @Test func tellsSystemdWhenReadyWhileAliveAndWhenStopping() throws {
        let database = try TestDatabase("sdnotify")
        try Workload.prepare(database)
        let socket = try NotifySocket()
        let service = try DaybookProcess(
            Workload.runArguments(database),
            environment: [
                "DAYBOOK_DATABASE": database.connectionString, "NOTIFY_SOCKET": socket.path,
                // A ping every half of it: 0.5 s.
                "WATCHDOG_USEC": "1000000",
            ]
        )
        defer { _ = service.stop() }
        let untilReady = socket.receive(timeout: .seconds(30)) { $0.contains("READY=1") }
        let ready = try #require(untilReady.last, "no READY=1 in 30 s; got \(untilReady)\n\(service.stderr)")
        #expect(ready.contains("STATUS=streaming from slot \(database.name)"), "\(ready)")
        #expect(untilReady.first?.contains("STATUS=starting") == true, "\(untilReady)")
        #expect(untilReady.dropLast().allSatisfy { !$0.contains("READY=1") })
        // The watchdog is fed while the loop makes progress.
        let untilWatchdog = socket.receive(timeout: .seconds(10)) { $0 == "WATCHDOG=1" }
        #expect(untilWatchdog.last == "WATCHDOG=1", "\(untilWatchdog)")

        #expect(service.stop() == 0, "\(service.stderr)")
        let rest = socket.receive(timeout: .seconds(5)) { $0.contains("STOPPING=1") }
        #expect(rest.last?.contains("STOPPING=1") == true, "\(rest)")
        #expect(rest.allSatisfy { !$0.contains("READY=1") }, "READY=1 is said once: \(rest)")
    }

    /// 2 and 5 for what only an operator can fix (the unit gives up, with this one line in the
    /// journal), 3 for a database that does not answer (the unit tries again).
    @Test func aConfigurationToFixExitsWithACodeTheUnitDoesNotRestartOn() throws {
        let database = try TestDatabase("svcexit")
        try Workload.prepare(database)

        // 2: a variable the unit requires is missing from the environment file.
        let missing = try DaybookProcess.run(["run", "--require-env", "DAYBOOK_DATABASE", "--slot", database.name])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(
            missing.stderr == "daybook: error: DAYBOOK_DATABASE is not set (--require-env): set it in the service's "
                + "environment file\n"
        )

        // 5: the password file is missing or readable by others, so libpq sends no password.
        let withoutPassword = database.connectionString.replacingOccurrences(
            of: "password=daybook-test-password",
            with: ""
        )
        #expect(withoutPassword != database.connectionString)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-pgpass-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let passwordFile = folder.appendingPathComponent("main.pgpass").path
        let absent = try DaybookProcess.run(
            ["status", "--slot", database.name],
            environment: ["DAYBOOK_DATABASE": withoutPassword, "PGPASSFILE": passwordFile]
        )
        #expect(absent.status == 5, "\(absent.stderr)")
        #expect(absent.stderr.contains("the password file PGPASSFILE names, \(passwordFile), does not exist"))
        #expect(absent.stderr.split(separator: "\n").count == 1, "one line: \(absent.stderr)")

        try Data("*:*:*:*:daybook-test-password\n".utf8).write(to: URL(fileURLWithPath: passwordFile))
        chmod(passwordFile, 0o644)
        let open = try DaybookProcess.run(
            ["status", "--slot", database.name],
            environment: ["DAYBOOK_DATABASE": withoutPassword, "PGPASSFILE": passwordFile]
        )
        #expect(open.status == 5, "\(open.stderr)")
        #expect(open.stderr.contains("because others may read it: chmod 600 it"), "\(open.stderr)")
        #expect(!open.stderr.contains("daybook-test-password"))

        // Mode 600: the same file is read, and the command works.
        chmod(passwordFile, 0o600)
        let readable = try DaybookProcess.run(
            ["status", "--slot", database.name],
            environment: ["DAYBOOK_DATABASE": withoutPassword, "PGPASSFILE": passwordFile]
        )
        #expect(readable.status == 0, "\(readable.stderr)")

        // 3, which the unit does restart on: nothing answers (a server still starting at boot).
        let closedPort = try freePort()
        let down = try DaybookProcess.run(
            ["run", "--slot", database.name],
            environment: ["DAYBOOK_DATABASE": "host=127.0.0.1 port=\(closedPort) dbname=app connect_timeout=5"]
        )
        #expect(down.status == 3, "\(down.stderr)")
        #expect(down.stderr.contains("check that PostgreSQL is running"), "\(down.stderr)")
    }
}

/// A Unix datagram socket standing in for systemd's notification socket.
private final class NotifySocket {
    let path: String
    private let descriptor: Int32

    init() throws {
        // sun_path holds 108 bytes: a short name under /tmp.
        path = "/tmp/daybook-notify-\(UInt32.random(in: 0...UInt32.max)).sock"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw SocketError("bind \(path): errno \(errno)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Every datagram until one satisfies `until` (included) or `timeout` passes.
    func receive(timeout: Duration, until: (String) -> Bool) -> [String] {
        let deadline = ContinuousClock.now + timeout
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            messages.append(message)
            if until(message) { break }
        }
        return messages
    }

    struct SocketError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
