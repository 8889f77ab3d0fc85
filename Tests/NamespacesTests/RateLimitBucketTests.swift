import GatewayCore
import GatewayServer
import NIOEmbedded
import Testing

@testable import Namespaces

/// A connection's own token bucket goes with it; a user's stays for their other connections.
@Suite("Rate-limit buckets and disconnects")
struct RateLimitBucketTests {
    @Test("an anonymous socket's bucket is dropped when it disconnects, not left for a later sweep")
    func connectionBucketGoes() throws {
        let harness = NamespaceHarness()
        let writer = ChannelFrameWriter(channel: EmbeddedChannel(loop: harness.loop))
        let session = try #require(harness.engine.makeWebSocketSession(writer: writer, on: writer.channel.eventLoop, handshake: HandshakeInfo(remoteAddress: "127.0.0.1")))
        harness.engine.startWebSocketSession(session, writer: writer)
        session.webSocketReceived(.message("0/prices,"), from: writer)
        session.webSocketReceived(.message(#"2/prices,1["subscribe",{"symbols":["BTC/USDT"]}]"#), from: writer)
        harness.loop.run()
        #expect(harness.rateLimits.bucketCount == 1)
        session.close(reason: .transportClose)
        harness.loop.run()
        #expect(harness.rateLimits.bucketCount == 0)
    }

    @Test("an authenticated user's bucket outlives one of their connections")
    func userBucketStays() throws {
        let harness = NamespaceHarness()
        let (_, session, writer) = try harness.userSocket("alice")
        session.webSocketReceived(.message(#"2/user,1["subscribe",{"channels":["orders"]}]"#), from: writer)
        harness.loop.run()
        #expect(harness.rateLimits.bucketCount == 1)
        session.close(reason: .transportClose)
        harness.loop.run()
        #expect(harness.rateLimits.bucketCount == 1)
    }
}
