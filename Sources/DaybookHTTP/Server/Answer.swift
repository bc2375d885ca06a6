import Daybook
import DaybookCore
import Hummingbird
import NIOCore

/// What every route and middleware answers: a status, a body and its media type. Handlers
/// return values of this type, and this is the one place a `Response` is built, so that the
/// content types (and the API's problem objects) are written once.
struct Answer: ResponseGenerator, Sendable {
    /// The media types Daybook answers with.
    enum MediaType: String, Sendable {
        case text = "text/plain; charset=utf-8"
        case json = "application/json"
        case html = "text/html; charset=utf-8"
        case css = "text/css; charset=utf-8"
        case javascript = "text/javascript; charset=utf-8"
        /// Prometheus' text exposition format.
        case metrics = "text/plain; version=0.0.4; charset=utf-8"
    }

    var status: HTTPResponse.Status = .ok
    var type: MediaType
    var body: ByteBuffer
    /// Headers beyond the content type (`Allow`, `WWW-Authenticate`).
    var headers: HTTPFields = [:]

    init(_ type: MediaType, _ body: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.init(type, ByteBuffer(string: body), status: status, headers: headers)
    }

    init(_ type: MediaType, _ body: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.status = status
        self.type = type
        self.body = body
        self.headers = headers
    }

    /// A line of plain text for a person (a health answer, a refusal), ending in a newline.
    static func text(_ line: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Answer {
        Answer(.text, line.hasSuffix("\n") ? line : line + "\n", status: status, headers: headers)
    }

    /// An API answer that went wrong: `{"error": "…"}`, the message in Daybook's words.
    static func problem(_ status: HTTPResponse.Status, _ message: String) -> Answer {
        Answer(.json, "{\"error\":" + DaybookJSON.text(message) + "}", status: status)
    }

    var response: Response {
        var fields = headers
        fields[.contentType] = type.rawValue
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}
