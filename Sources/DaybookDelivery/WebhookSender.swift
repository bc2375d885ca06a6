import AsyncHTTPClient
import Crypto
import DaybookCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One signed POST of a day's digest to a webhook destination, on AsyncHTTPClient (TLS by
/// NIO's SSL) with swift-crypto's HMAC-SHA256: nothing of either is written by hand.
struct WebhookSender: Sendable {
    let client: HTTPClient
    /// How long one attempt may take, connection and answer included.
    var timeout: TimeAmount = .seconds(30)

    /// The process's client, kept for its life (as `HTTPClient.shared` is, never shut down).
    ///
    /// A connection that fails (refused, unreachable, TLS) ends the attempt at once: the client's
    /// own retries would hold the pass until the deadline while other destinations wait, and
    /// Daybook retries anyway, with ``DeliveryPolicy``'s backoff recorded in the sink. Redirects
    /// are not followed: a webhook that moved answers 3xx, which is recorded as not delivered.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends `body`, signed with `secret`, carrying `deliveryID` (the same on every attempt of
    /// the day, so that a receiver can tell a repeat). Blocking: call it from a thread that may
    /// block, never from an event loop.
    func send(body: String, to url: String, secret: [UInt8], deliveryID: String, now: Date = Date()) -> DeliveryResult {
        let timestamp = Int64(now.timeIntervalSince1970)
        let mac = HMAC<SHA256>.authenticationCode(
            for: WebhookPayload.signedContent(timestamp: timestamp, body: body),
            using: SymmetricKey(data: secret)
        )
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "User-Agent", value: "daybook")
        headers.add(name: "Idempotency-Key", value: deliveryID)
        headers.add(name: "X-Daybook-Delivery", value: deliveryID)
        headers.add(name: "X-Daybook-Signature", value: WebhookPayload.signature(timestamp: timestamp, mac: mac))
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .string(body))
        } catch {
            return DeliveryResult(attempt: .noAnswer, error: "the destination's URL cannot be used: \(error)")
        }
        do {
            let response = try client.execute(request: request, deadline: .now() + timeout).wait()
            let status = Int(response.status.code)
            guard !(200..<300).contains(status) else {
                return DeliveryResult(attempt: .answered(status: status), statusCode: status)
            }
            let answer = response.body.map { String(buffer: $0).prefix(200) } ?? ""
            return DeliveryResult(
                attempt: .answered(status: status),
                statusCode: status,
                error: "HTTP \(status)" + (answer.isEmpty ? "" : ": \(answer)")
            )
        } catch {
            return DeliveryResult(attempt: .noAnswer, error: "no answer: \(Self.describe(error))")
        }
    }

    /// An error of AsyncHTTPClient or NIO in a few words, without the URL.
    static func describe(_ error: any Error) -> String {
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return "TLS failed (\(error)): is the URL's scheme right, and is the receiver's certificate "
                + "valid for its host?"
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            case .remoteConnectionClosed: return "the receiver closed the connection"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
