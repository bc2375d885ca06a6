import Daybook
import DaybookTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresReplication
import Testing

@testable import DaybookHTTP

/// The routes and middlewares in process, through ``DaybookHTTPServer/buildRouter()`` and
/// HummingbirdTesting: no socket, no sink. The sink they are given is a real address where no
/// server listens, which is how a sink that went away looks; the real-server tests
/// (`HTTPSurfaceTests`, `HTTPHardeningTests`, `APITests`) cover the answers with data, and
/// what needs a socket (the `Host` check: the in-process client always names `localhost`).
struct RouterTests {
    /// A port nothing listens on: bound, read, and closed again.
    private static let deadSink: ConnectionString = {
        let port = (try? freePort()) ?? 1
        return ConnectionString(
            "host=127.0.0.1 port=\(port) user=daybook password=never-logged dbname=sink connect_timeout=2"
        )
    }()

    private static func server(
        token: String? = nil,
        alive: Bool = true,
        ready: Bool = true
    ) throws -> DaybookHTTPServer {
        let address = ListenAddress(host: "127.0.0.1", port: 0)
        var tokenFile: String?
        if let token {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("daybook-token-\(UUID())").path
            try Data(token.utf8).write(to: URL(fileURLWithPath: path))
            tokenFile = path
        }
        defer { if let tokenFile { try? FileManager.default.removeItem(atPath: tokenFile) } }
        return DaybookHTTPServer(
            address: address,
            policy: try AccessPolicy(address: address, tokenFile: tokenFile, insecureNoAuth: false),
            metrics: MetricsRegistry(unbootstrapped: .init()),
            health: .init(
                isAlive: { alive },
                readiness: { ServiceHealth.Readiness(isReady: ready, checks: ["sink": ready ? "ok" : "unavailable"]) }
            ),
            api: DaybookAPI(
                reader: SinkReader(sink: deadSink, source: nil, status: StatusReport(slot: "daybook")),
                logger: Logger(label: "daybook.test")
            ),
            lagHistory: LagHistory(),
            mode: "read-only (test)",
            logger: Logger(label: "daybook.test")
        )
    }

    private static func body(_ response: TestResponse) -> String { String(buffer: response.body) }

    @Test func healthAnswersInPlainText() async throws {
        try await Application(router: try Self.server().buildRouter()).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.body(response) == "ok\n")
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
            }
        }
        try await Application(router: try Self.server(alive: false).buildRouter()).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(Self.body(response).contains("no progress"))
            }
        }
    }

    @Test func readinessIsJSONWithItsChecks() async throws {
        try await Application(router: try Self.server(ready: false).buildRouter()).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Self.body(response) == #"{"checks":{"sink":"unavailable"},"ready":false}"#)
            }
        }
    }

    @Test func everyAnswerCarriesTheSecurityHeaders() async throws {
        try await Application(router: try Self.server().buildRouter()).test(.router) { client in
            for uri in ["/healthz", "/api/v1/openapi.json", "/assets/dashboard.css", "/no/such/page"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    #expect(response.headers[.cacheControl] == "no-store", "\(uri)")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true, "\(uri)")
                }
            }
        }
    }

    @Test func onlyGETAndHEADAreAnswered() async throws {
        try await Application(router: try Self.server().buildRouter()).test(.router) { client in
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                try await client.execute(uri: "/api/v1/status", method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method)")
                    #expect(response.headers[.allow] == "GET, HEAD")
                }
            }
            try await client.execute(uri: "/healthz", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func aTokenGuardsAllButLiveness() async throws {
        let token = "0123456789abcdef0123456789abcdef"
        try await Application(router: try Self.server(token: token).buildRouter()).test(.router) { client in
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"daybook\"")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok, "a liveness probe needs no token")
            }
            try await client.execute(
                uri: "/api/v1/openapi.json",
                method: .get,
                headers: [.authorization: "bearer \(token)"]
            ) { response in
                #expect(response.status == .ok, "the scheme is case-insensitive")
            }
            try await client.execute(
                uri: "/api/v1/openapi.json",
                method: .get,
                headers: [.authorization: "Bearer \(token.dropLast())x"]
            ) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func theOpenAPIDocumentAndTheAssetsAreServed() async throws {
        try await Application(router: try Self.server().buildRouter()).test(.router) { client in
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let document = try JSONSerialization.jsonObject(with: Data(Self.body(response).utf8)) as? [String: Any]
                #expect(document?["openapi"] as? String != nil)
            }
            try await client.execute(uri: "/assets/dashboard.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
        }
    }

    /// A sink that does not answer is a 503 with the kind of trouble, never its address; an
    /// API path that does not exist is a 404 in the API's problem form.
    @Test func aSinkThatDoesNotAnswerIsA503ThatTellsNoAddress() async throws {
        try await Application(router: try Self.server().buildRouter()).test(.router) { client in
            try await client.execute(uri: "/api/v1/status", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/json")
                let text = Self.body(response)
                #expect(text.hasPrefix(#"{"error":"#), "\(text)")
                #expect(!text.contains("127.0.0.1") && !text.contains("never-logged"), "\(text)")
            }
            try await client.execute(uri: "/windows/2026-12-05", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            }
            try await client.execute(uri: "/api/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(Self.body(response).hasPrefix(#"{"error":"#))
            }
        }
    }

    @Test func metricsAreThePrometheusExposition() async throws {
        try await Application(router: try Self.server().buildRouter()).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(Self.body(response).contains("process_"))
            }
        }
    }
}
