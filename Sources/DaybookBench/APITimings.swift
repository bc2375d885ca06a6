import Foundation
import PostgresReplication

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Response times of the JSON API and the dashboard for a closed day of many keys, from
/// `daybook serve` on the benchmark's sink: the median of `repeats` requests each, after one
/// warm-up request (PostgreSQL's caches, not Daybook's: it keeps none).
struct APITimings {
    let daybook: String
    let source: String
    let sink: String
    let slot: String
    let table: String
    let logDirectory: String
    var repeats = 5

    func run() throws {
        let port = Int.random(in: 20_000...40_000)
        let pid = try MeasuredProcess.spawn(
            daybook,
            ["serve", "--database", source, "--sink", sink, "--slot", slot, "--listen", "127.0.0.1:\(port)"],
            logFile: "\(logDirectory)/bench_api_serve.log"
        )
        defer {
            kill(pid, SIGTERM)
            _ = try? MeasuredProcess.reap(pid, started: .now)
        }
        let base = "http://127.0.0.1:\(port)"
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? get(base + "/healthz"))?.status == 200
            if !ready { Thread.sleep(forTimeInterval: 0.1) }
        }
        guard ready else { throw BenchError("daybook serve did not start; see \(logDirectory)/bench_api_serve.log") }
        let windows = try json(get(base + "/api/v1/windows?from=2000-01-01").body)
        guard
            let day = (windows["items"] as? [[String: Any]])?.max(by: {
                ($0["changes"] as? Int ?? 0) < ($1["changes"] as? Int ?? 0)
            }),
            let start = day["window_start"] as? String
        else { throw BenchError("no window in the sink") }
        let window = start.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? start
        let table = self.table.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? self.table
        let first = try json(get(base + "/api/v1/windows/\(window)/keys?limit=100").body)
        let cursor = first["next_cursor"] as? String ?? ""
        let ofTable = try json(get(base + "/api/v1/windows/\(window)/keys?limit=1&table=\(table)").body)
        let someKey =
            ((ofTable["items"] as? [[String: Any]])?.first?["key"]).flatMap {
                try? JSONSerialization.data(withJSONObject: $0)
            }.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let key = someKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        say(
            "\n## API and dashboard response times, a closed day of \(day["changes"] ?? "?") changes (median of \(repeats))"
        )
        say("request | status | median ms | bytes")
        for (name, path) in [
            ("windows (last 30 days)", "/api/v1/windows"),
            ("a window's tables", "/api/v1/windows/\(window)/tables"),
            ("first page of keys (100)", "/api/v1/windows/\(window)/keys?limit=100"),
            ("next page of keys", "/api/v1/windows/\(window)/keys?limit=100&cursor=\(cursor)"),
            ("top 10 keys per table", "/api/v1/windows/\(window)/keys?top=10"),
            ("one key's events", "/api/v1/windows/\(window)/events?table=\(table)&key=\(key)"),
            ("status", "/api/v1/status"),
            ("dashboard /", "/"),
            ("dashboard: the window's page", "/windows/\(window)"),
        ] {
            _ = try get(base + path)
            var times: [Double] = []
            var last = (status: 0, body: "")
            for _ in 0..<repeats {
                let started = ContinuousClock.now
                last = try get(base + path)
                let elapsed = ContinuousClock.now - started
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            times.sort()
            say("\(name) | \(last.status) | \(format(times[times.count / 2])) | \(last.body.utf8.count)")
        }
    }

    private func get(_ url: String) throws -> (status: Int, body: String) {
        guard let address = URL(string: url) else { throw BenchError("bad URL \(url)") }
        var request = URLRequest(url: address)
        request.timeoutInterval = 300
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, String), any Error> = .failure(BenchError("no answer from \(url)"))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                result = .failure(error)
            } else {
                result = .success(
                    ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
                )
            }
            done.signal()
        }.resume()
        done.wait()
        let (status, body) = try result.get()
        return (status, body)
    }

    private func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw BenchError("not a JSON object: \(text.prefix(200))")
        }
        return object
    }
}
