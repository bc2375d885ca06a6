import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Gives the security headers to responses the application never made: a request line or a
/// header too long for the HTTP parser (a 100 kB URL) is answered 400 by Hummingbird itself,
/// before any middleware runs. Sits in the channel pipeline after the HTTP codec, so every
/// response head passes it; those that already carry the headers pass unchanged.
final class SecurityHeadersChannelHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.headerFields[.xContentTypeOptions] == nil else {
            context.write(data, promise: promise)
            return
        }
        SecurityHeaders.add(to: &head.headerFields)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
