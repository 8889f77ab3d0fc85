import GatewayCore
import GatewayMetrics
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayServer

@Suite("HTTP request bounds and deadlines on an embedded channel")
struct HTTPRequestDeadlineHandlerTests {
    let loop = EmbeddedEventLoop()

    func channel(headerTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        let handler = HTTPRequestDeadlineHandler(
            headerTimeout: headerTimeout, idleTimeout: idleTimeout, maxHeadBytes: 1024, maxTargetBytes: 256,
            metrics: GatewayMetrics(), loop: LoopContext(eventLoop: loop)
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func head(_ uri: String, headers: HTTPHeaders = [:]) -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers))
    }

    /// The status of the response the handler wrote itself, if any.
    func refusal(_ channel: EmbeddedChannel) throws -> HTTPResponseStatus? {
        guard case .head(let response)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        return response.status
    }

    @Test("a request within the bounds passes to the router untouched")
    func passes() throws {
        let channel = try channel()
        try channel.writeInbound(head("/socket.io/?EIO=4&transport=polling"))
        guard case .head(let passed)? = try channel.readInbound(as: HTTPServerRequestPart.self) else {
            Issue.record("the head should pass")
            return
        }
        #expect(passed.uri == "/socket.io/?EIO=4&transport=polling")
        #expect(try refusal(channel) == nil)
    }

    @Test("a target over the bound gets 414, headers over theirs get 431; neither reaches the router and the connection closes")
    func bounds() throws {
        for (part, status) in [
            (head("/" + String(repeating: "a", count: 300)), HTTPResponseStatus.uriTooLong),
            (head("/", headers: ["x-padding": String(repeating: "b", count: 2000)]), .requestHeaderFieldsTooLarge),
        ] {
            let channel = try channel()
            try channel.writeInbound(part)
            #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
            #expect(try refusal(channel) == status)
            loop.run()
            #expect(!channel.isActive)
        }
    }

    @Test("a connection that sends no complete head within the header timeout is closed; one that does is not")
    func headerTimeout() throws {
        let idle = try channel(headerTimeout: .seconds(5))
        loop.advanceTime(by: .seconds(4))
        #expect(idle.isActive)
        loop.advanceTime(by: .seconds(2))
        #expect(!idle.isActive)
        let busy = try channel(headerTimeout: .seconds(5))
        try busy.writeInbound(head("/health"))
        loop.advanceTime(by: .seconds(60))
        #expect(busy.isActive, "no deadline while a request is in progress (a long-poll may wait)")
    }
}
