import HTTPTypes
import Hummingbird

/// Answers 401 to a request without the bearer token (see ``AccessPolicy``); `/healthz` stays
/// open, since a liveness probe tells nothing but that the process runs.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if request.uri.path == "/healthz" || policy.admits(authorization: request.headers[.authorization]) {
            return try await next(request, context)
        }
        return Answer.text(
            "a valid bearer token is needed (Authorization: Bearer …)",
            status: .unauthorized,
            headers: [.wwwAuthenticate: "Bearer realm=\"daybook\""]
        ).response
    }
}

/// Answers 403 to a request whose `Host` names another server, on a loopback listener without
/// a token (``AccessPolicy/requiresLoopbackHost``): a web page a browser here opened from
/// elsewhere cannot read the API by making its own name resolve to 127.0.0.1.
struct LoopbackHostMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if policy.admits(host: request.head.authority) {
            return try await next(request, context)
        }
        return Answer.text(
            "this server answers requests to localhost, 127.0.0.1 or [::1] only (the Host header names another)",
            status: .forbidden
        ).response
    }
}

/// Headers every response carries: nothing loads from elsewhere, nothing is framed or
/// sniffed, no referrer leaves, and API and metrics responses (row values) are never cached.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do { response = try await next(request, context) } catch let error as HTTPError {
            let message = error.body ?? error.status.reasonPhrase
            response =
                request.uri.path.hasPrefix("/api/")
                ? Answer.problem(error.status, message).response
                : Answer.text(message, status: error.status).response
        }
        SecurityHeaders.add(to: &response.headers)
        return response
    }
}

/// The headers of ``SecurityHeadersMiddleware``, in one place: the middleware sets them on
/// every answer of the application, ``SecurityHeadersChannelHandler`` on the few that the
/// HTTP parser gives before the application sees a request.
enum SecurityHeaders {
    private static var referrerPolicy: HTTPField.Name { HTTPField.Name("Referrer-Policy")! }
    private static var frameOptions: HTTPField.Name { HTTPField.Name("X-Frame-Options")! }

    static func add(to headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[referrerPolicy] = "no-referrer"
        headers[frameOptions] = "DENY"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}

/// Everything here only reads: any method but GET and HEAD gets 405 with `Allow`, before
/// routing (which would answer 404 for a path that exists).
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            return Answer.text("read-only: GET or HEAD", status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
                .response
        }
        return try await next(request, context)
    }
}
