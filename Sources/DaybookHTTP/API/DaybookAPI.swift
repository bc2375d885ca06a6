import Daybook
import DaybookCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The read-only JSON API, `/api/v1/…`, described by ``OpenAPIDocument``.
///
/// Every answer comes from Daybook's one query layer: ``StatusReport`` (as `daybook status
/// --format json`) and ``Report`` (as `daybook report --format json`, one object per row),
/// so the CLI and HTTP never disagree. Parameters reach SQL only as bind parameters; a bad one
/// gets 400 with what is wrong, a sink that does not answer 503, never 500.
public struct DaybookAPI: Sendable {
    /// The query layer, over its own pool of sink (and source) connections.
    let reader: SinkReader
    /// Where the reasons behind a 503 go (a client gets only their kind).
    let logger: Logger

    var slot: String { reader.slot }

    /// Largest page of keys.
    static let maxLimit = 1_000
    static let defaultLimit = 100

    public init(reader: SinkReader, logger: Logger = Logger(label: "daybook.http")) {
        self.reader = reader
        self.logger = logger
    }

    func register(on router: Router<BasicRequestContext>) {
        let api = self
        let group = router.group("api/v1")
        group.get("openapi.json") { _, _ in Answer(.json, OpenAPIDocument.json) }
        group.get("status") { _, _ in await api.answer { try api.statusJSON() } }
        group.get("windows") { request, _ in
            await api.answer {
                var report = Report.Request()
                report.windows = true
                // Dates and timestamps are checked by the query layer (ReportInput), as the CLI's.
                report.from = try request.text("from")
                report.to = try request.text("to")
                if report.from == nil && report.to == nil {
                    report.from = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-30 * 86_400))
                }
                return try api.page(report)
            }
        }
        group.get("digest") { request, _ in
            await api.answer {
                var digest = DigestQuery.Request()
                digest.slot = api.slot
                // Checked by the query layer, as the CLI's: a future or unreadable date is a 400.
                // A day, or a moment: the window that holds it (for windows shorter than a day).
                if let date = try request.text("date") {
                    if date.utf8.count > 10 { digest.moment = date } else { digest.date = date }
                }
                digest.table = try request.text("table")
                return DaybookJSON.text(try api.reader.read { try $0.digest(digest) })
            }
        }
        group.get("windows/:start/tables") { request, context in
            await api.answer {
                var report = Report.Request()
                report.windowStart = try context.windowStart()
                report.includeOpen = true
                report.table = try request.text("table")
                return try api.page(report, requireWindow: true)
            }
        }
        group.get("windows/:start/keys") { request, context in
            await api.answer {
                var report = Report.Request()
                report.windowStart = try context.windowStart()
                report.keys = true
                report.includeOpen = true
                report.table = try request.text("table")
                report.top = try request.integer("top", in: 1...Self.maxLimit)
                let limit = try request.integer("limit", in: 1...Self.maxLimit) ?? Self.defaultLimit
                // top answers in one page (at most top keys per table): cursor and limit are for all keys.
                if let cursor = try request.text("cursor"), report.top == nil {
                    report.after = try KeyCursorText.decode(cursor)
                }
                if report.top == nil { report.limit = limit }
                return try api.page(report, requireWindow: true)
            }
        }
        group.get("windows/:start/events") { request, context in
            await api.answer {
                var report = Report.Request()
                report.windowStart = try context.windowStart()
                report.events = true
                guard let table = try request.text("table"), let key = try request.text("key") else {
                    throw APIError.badRequest(
                        "give table (schema.table) and key (its JSON object, e.g. {\"id\":\"42\"})"
                    )
                }
                // Text that is no JSON object names no key (as documented); an object PostgreSQL
                // cannot read is refused by the query layer (400).
                guard !Report.namesNoKey(key) else {
                    throw APIError.notFound("no key \(key) in \(table): a key is a JSON object such as {\"id\":\"42\"}")
                }
                report.table = table
                report.key = key
                return try api.page(
                    report,
                    requireWindow: true,
                    requireItems:
                        "no events of key \(key) in \(table) in this window (is the table captured at values? daybook capture \(table) values)"
                )
            }
        }
    }

    // MARK: Answers

    private func statusJSON() throws -> String {
        DaybookJSON.text(try reader.read { try $0.status() })
    }

    /// One report as `{"items": [...], "next_cursor": …, "notice": …, "gaps": [...]}`; items
    /// are the objects `daybook report --format json` prints, gaps the recorded gaps that may
    /// touch the range (``Gap``).
    private func page(
        _ request: Report.Request,
        requireWindow: Bool = false,
        requireItems: String? = nil
    ) throws -> String {
        var request = request
        request.slot = slot
        // Every value is checked by the query layer before SQL sees it: a malformed one is a
        // DaybookError.invalidArgument, answered 400 in Daybook's words.
        let (output, windowFound) = try reader.read { session in
            let output = try session.report(request)
            guard requireWindow, let start = request.windowStart else { return (output, true) }
            return (output, try session.windowExists(start: start))
        }
        if !windowFound, let start = request.windowStart {
            throw APIError.notFound("no window of slot \(slot) starts at \(start): see /api/v1/windows")
        }
        var items: [String]
        var nextCursor: String?
        if let events = output.events {
            // The sink's SQL builds them with PostgreSQL's spacing: the one compact style, as the CLI's.
            items = events.map(JSONText.compact)
            if items.isEmpty, let requireItems { throw APIError.notFound(requireItems) }
        } else {
            nextCursor = output.nextCursor.map(KeyCursorText.encode)
            items =
                output.table.rows.isEmpty
                ? [] : ReportFormat.json.render(output.table).split(separator: "\n").map(String.init)
        }
        var json = "{\"items\":[" + items.joined(separator: ",") + "]"
        json += ",\"next_cursor\":" + (nextCursor.map { DaybookJSON.text($0) } ?? "null")
        json += ",\"notice\":" + (output.notice.map { DaybookJSON.text($0) } ?? "null")
        json += ",\"gaps\":" + DaybookJSON.text(output.gaps) + "}"
        return json
    }

    /// Runs `body` on NIO's blocking pool (libpq blocks) and turns its result or error into a
    /// response: 400 for what the caller got wrong, 404 for what is not there, 503 when the
    /// sink cannot answer.
    private func answer(_ body: @escaping @Sendable () throws -> String) async -> Answer {
        do {
            return Answer(.json, try await NIOThreadPool.singleton.runIfActive { try body() })
        } catch {
            let (status, message) = Self.status(of: error, logger: logger)
            return Answer.problem(status, message)
        }
    }

    /// What an error means for the client: its own mistake (400), something that is not
    /// there (404), or a sink that cannot answer (503); never a 500. Shared with the dashboard.
    ///
    /// A client is told what it got wrong, in Daybook's words, and otherwise only what kind of
    /// trouble the sink is in (``DaybookError/publicMessage``): a server's error text, with its
    /// statement, parameters, host, port or role, goes to the log, never into a response.
    static func status(of error: any Error, logger: Logger) -> (HTTPResponse.Status, String) {
        switch error {
        case let error as APIError: return (error.status, error.message)
        case let error as DaybookError where error.code == .invalidArgument: return (.badRequest, error.message)
        case let error as DaybookError where error.code == .notFound: return (.notFound, error.message)
        case let error as DaybookError:
            logger.warning("an HTTP request could not be answered", metadata: ["daybook.error": "\(error.message)"])
            return (.serviceUnavailable, error.publicMessage)
        default:
            logger.warning("an HTTP request could not be answered", metadata: ["daybook.error": "\(error)"])
            return (.serviceUnavailable, "the request could not be answered: see Daybook's log")
        }
    }
}

/// A request the API cannot answer as asked.
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, message: message) }
}

/// The cursor as the API hands it out: URL-safe base64 of its JSON, opaque to clients.
enum KeyCursorText {
    static func encode(_ cursor: Report.KeyCursor) -> String {
        DaybookJSON.encode(cursor).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws(APIError) -> Report.KeyCursor {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        // An opaque cursor that is not one of ours names a page that does not exist (404); one
        // that decodes but whose fields were changed is refused by the query layer (400).
        guard let data = Data(base64Encoded: base64), let cursor = DaybookJSON.decode(Report.KeyCursor.self, from: data)
        else {
            throw APIError.notFound("no such page: the cursor is not one this API handed out; use next_cursor as given")
        }
        return cursor
    }
}

extension BasicRequestContext {
    /// The `{start}` path segment, percent-decoded (clients encode its `+` and `:`).
    func windowStart() throws(APIError) -> String {
        guard let raw = parameters.get("start"), let start = raw.removingPercentEncoding, !start.isEmpty else {
            throw APIError.badRequest("the window start in the path is missing or not percent-encoded text")
        }
        guard !start.utf8.contains(0) else {
            throw APIError.badRequest("the window start in the path contains a NUL character")
        }
        return start
    }
}

extension Request {
    /// A query parameter's text; an empty one is a mistake worth saying.
    func text(_ name: String) throws(APIError) -> String? {
        guard let value = uri.queryParameters[name[...]] else { return nil }
        guard !value.isEmpty else { throw APIError.badRequest("\(name) is empty: leave it out or give a value") }
        // Cut at a NUL, a value would name something else than asked (app.items%00 is not app.items).
        guard !value.utf8.contains(0) else { throw APIError.badRequest("\(name) contains a NUL character") }
        return String(value)
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = try text(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest(
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'"
            )
        }
        return value
    }
}
