import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import GatewayServer

@Suite("Inline routes on an embedded channel")
struct InlineRouteHandlerTests {
    static let route = InlineRoute(
        method: .post, path: "/api/v1/market", bodyLimit: 64, maxBody: 1024,
        tooLarge: InlineResponse(status: .contentTooLarge, headers: [:], body: ByteBuffer(string: "too large")),
        admit: { head in head.headerFields[.authorization] == "ok" ? nil : InlineResponse(status: .unauthorized, headers: [:], body: ByteBuffer(string: "no")) },
        respond: { request in InlineResponse(status: .accepted, headers: [:], body: ByteBuffer(string: "got \(request.body.readableBytes)")) }
    )

    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: InlineRouteHandler(routes: [Self.route]))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func post(length: String, authorization: String = "ok") -> HTTPRequestPart {
        var fields: HTTPFields = [.contentLength: length]
        fields[.authorization] = authorization
        return .head(HTTPRequest(method: .post, scheme: nil, authority: "x", path: "/api/v1/market", headerFields: fields))
    }

    /// The status and body of the next response the handler wrote.
    func response(_ channel: EmbeddedChannel) throws -> (HTTPResponse.Status, String)? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        guard case .body(let body) = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        _ = try channel.readOutbound(as: HTTPResponsePart.self)
        return (head.status, String(buffer: body))
    }

    @Test("a POST within the inline limit is answered on the loop, with its whole body")
    func answeredInline() throws {
        let channel = try channel()
        try channel.writeInbound(post(length: "5"))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "ab")))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "cde")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        let answer = try response(channel)
        #expect(answer?.0 == .accepted && answer?.1 == "got 5")
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil, "nothing reached the router")
    }

    @Test("a refused token is answered after the body is read past, and the connection stays")
    func refusedAtTheHead() throws {
        let channel = try channel()
        try channel.writeInbound(post(length: "3", authorization: "bad"))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "abc")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try response(channel)?.0 == .unauthorized)
        #expect(channel.isActive)
    }

    @Test("a declared length over maxBody is answered at the head and the connection closes")
    func tooLargeAtTheHead() throws {
        let channel = try channel()
        try channel.writeInbound(post(length: "4096"))
        #expect(try response(channel)?.0 == .contentTooLarge)
        #expect(!channel.isActive)
    }

    @Test("a length the route does not take inline (over its limit, negative, not a number) goes to the router")
    func otherLengthsGoToTheRouter() throws {
        for length in ["100", "-5", "99999999999999999999999", "ten"] {
            let channel = try channel()
            try channel.writeInbound(post(length: length))
            guard case .head = try channel.readInbound(as: HTTPRequestPart.self) else {
                Issue.record("Content-Length \(length) was not passed on")
                continue
            }
            #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
        }
    }
}
