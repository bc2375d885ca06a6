import Daybook
import DaybookCore
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// The ops dashboard at `/`: HTML rendered here from the same query layer as the API
/// (``StatusReport``, ``Report``), with its stylesheet and script inside the binary. Its
/// tables read with JavaScript off; with it on, the script swaps in a fresh `<main>` every few
/// seconds (the same URL with `X-Daybook-Fragment: 1`).
struct Dashboard: Sendable {
    let api: DaybookAPI
    /// The slot's lag over the last hour (nil: no chart).
    let lagHistory: LagHistory?
    /// "streaming" beside `run`, "read-only" for `serve`.
    let mode: String

    static let windowsShown = 30

    func register(on router: Router<BasicRequestContext>) {
        let dashboard = self
        router.get("/") { request, _ in
            await dashboard.page(request, title: "Daybook") {
                DashboardPages.overview(try dashboard.overview(), mode: dashboard.mode)
            }
        }
        router.get("/windows/:start") { request, context in
            await dashboard.page(request, title: "Daybook: window") {
                let start = try context.windowStart()
                return DashboardPages.window(start: start, try dashboard.window(start))
            }
        }
        router.get("/windows/:start/key") { request, context in
            await dashboard.page(request, title: "Daybook: key") {
                let start = try context.windowStart()
                guard let table = try request.text("table"), let key = try request.text("key") else {
                    throw APIError.badRequest("give table and key")
                }
                return DashboardPages.key(
                    start: start,
                    table: table,
                    key: key,
                    try dashboard.key(start, table: table, key: key)
                )
            }
        }
        router.get("/digest") { request, _ in
            await dashboard.page(request, title: "Daybook: digest") {
                var digest = DigestQuery.Request()
                digest.slot = dashboard.api.slot
                // The form sends an empty date when the field is cleared: yesterday, then.
                let date = request.uri.queryParameters["date"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
                // A day, or a moment: the window that holds it (for windows shorter than a day), as the API's.
                if let date, date.utf8.count > 10 { digest.moment = date } else { digest.date = date }
                return DashboardPages.digest(try dashboard.api.reader.read { try $0.digest(digest) }, date: date)
            }
        }
        router.get("/assets/dashboard.css") { _, _ in Answer(.css, DashboardAssets.css) }
        router.get("/assets/dashboard.js") { _, _ in Answer(.javascript, DashboardAssets.javascript) }
    }

    // MARK: Data

    struct Overview {
        var status: Status
        var windows: [[String: String]]
        var tables: [[String: String]]
        var lag: [LagHistory.Sample]
    }

    private func overview() throws -> Overview {
        try api.reader.read { session in
            let status = try session.status()
            let from = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-31 * 86_400))
            var windowsRequest = Report.Request()
            windowsRequest.windows = true
            windowsRequest.from = from
            windowsRequest.slot = api.slot
            let windows = Array(try session.report(windowsRequest).table.records.suffix(Self.windowsShown))
            var tablesRequest = Report.Request()
            tablesRequest.from = windows.first?["window_start"] ?? from
            tablesRequest.includeOpen = true
            tablesRequest.slot = api.slot
            let tables = try session.report(tablesRequest).table.records
            return Overview(status: status, windows: windows, tables: tables, lag: lagHistory?.all ?? [])
        }
    }

    struct WindowDetail {
        var tables: [[String: String]]
        var topKeys: [[String: String]]
        var notice: String?
    }

    private func window(_ start: String) throws -> WindowDetail {
        try api.reader.read { session in
            var request = Report.Request()
            request.windowStart = start
            request.includeOpen = true
            request.slot = api.slot
            let tables = try session.report(request)
            guard !tables.table.rows.isEmpty else {
                throw APIError.notFound("no window of slot \(api.slot) starting at \(start) has changes")
            }
            request.top = 10
            let keys = try session.report(request).table.records
            return WindowDetail(tables: tables.table.records, topKeys: keys, notice: tables.notice)
        }
    }

    /// The key's events object when its table is at `values` and the window closed, else its
    /// per-key row (operations only); and the recorded gaps that may touch the window.
    private func key(_ start: String, table: String, key: String) throws -> DashboardPages.KeyFound {
        try api.reader.read { session in
            var request = Report.Request()
            request.windowStart = start
            request.slot = api.slot
            request.table = table
            // The query layer refuses a key that is no JSON object PostgreSQL can read (400).
            request.events = true
            request.key = key
            let output = try session.report(request)
            if let line = output.events?.first, let object = DaybookJSON.decode(JSONValue.self, from: line),
                object.object != nil
            {
                return DashboardPages.KeyFound(events: object, row: nil, gaps: output.gaps)
            }
            request.events = false
            request.key = nil
            request.keys = true
            request.includeOpen = true
            let wanted = DaybookJSON.decode([String: String].self, from: key)
            let row = try session.report(request).table.records.first { record in
                guard let text = record["key"], let object = DaybookJSON.decode([String: String].self, from: text)
                else { return false }
                return object == wanted
            }
            guard let row else { throw APIError.notFound("no key \(key) in \(table) in this window") }
            return DashboardPages.KeyFound(events: nil, row: row, gaps: output.gaps)
        }
    }

    // MARK: Responses

    /// Renders `body` into the page (or, for the script's refresh, the `<main>` fragment);
    /// a sink that does not answer gives the page with the reason, status 503, and the
    /// script keeps retrying.
    private func page(
        _ request: Request,
        title: String,
        _ body: @escaping @Sendable () throws -> String
    ) async -> Answer {
        let fragment = request.headers[DashboardPages.fragmentHeader] == "1"
        var status = HTTPResponse.Status.ok
        var content: String
        do {
            content = try await NIOThreadPool.singleton.runIfActive { try body() }
        } catch {
            let message: String
            (status, message) = DaybookAPI.status(of: error, logger: api.logger)
            content = DashboardPages.problem(message)
        }
        let html = fragment ? content : DashboardPages.layout(title: title, slot: api.slot, mode: mode, main: content)
        return Answer(.html, html, status: status)
    }
}
