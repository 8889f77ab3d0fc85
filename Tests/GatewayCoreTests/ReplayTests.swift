import GatewayJSON
@testable import GatewayCore
import GatewayServer
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import SocketIOCodec
import Testing

@Suite("Replays paced by the transport")
struct ReplayTests {
    func texts(_ harness: Harness, _ channel: EmbeddedChannel) throws -> [String] {
        try harness.frames(channel).map { frame in
            let length = frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self)! & 0x7F
            let header = length == 127 ? 10 : length == 126 ? 4 : 2
            return String(buffer: frame.getSlice(at: frame.readerIndex + header, length: frame.readableBytes - header)!)
        }
    }

    /// The value of a future on the embedded loop, after running it.
    func value<T: Sendable>(_ future: EventLoopFuture<T>, _ loop: EmbeddedEventLoop) throws -> T {
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        future.whenComplete { outcome in result.withLockedValue { $0 = outcome } }
        loop.run()
        return try #require(result.withLockedValue { $0 }).get()
    }

    func replayed(_ range: Range<Int>, size: Int) -> [OutboundMessage] {
        range.map { index in
            OutboundMessage.event(namespace: "/prices", name: "missed", payloadJSON: "\"\(index)\(String(repeating: "x", count: size))\"")
        }
    }

    @Test("a replay many times slowConsumerBytes reaches a socket that cannot take it at once, in order, before what is sent later")
    func largeReplay() throws {
        var configuration = EngineConfiguration()
        configuration.slowConsumerBytes = 64 * 1024
        let harness = Harness(configuration: configuration)
        let (channel, session, writer) = try harness.client()
        let socket = try #require((session.handler as? SocketIOConnection)?.socket(for: "/prices"))
        channel.isWritable = false
        socket.emit("before", [])
        socket.replay(replayed(0..<40, size: 16 * 1024))  // 640 KiB: 10x the limit
        socket.emit("after", [])
        harness.loop.run()
        #expect(!session.isClosed, "a replay is not a slow consumer")
        #expect(try harness.frames(channel).isEmpty)

        var received: [String] = []
        var rounds = 0
        while received.count < 42, rounds < 100 {  // bounded: a broken pacing fails, not hangs
            rounds += 1
            channel.isWritable = true
            session.webSocketWritable(writer)
            let batch = try texts(harness, channel)
            #expect(!batch.isEmpty)
            received += batch
            channel.isWritable = false
            harness.loop.run()
        }
        #expect(received.first == #"42/prices,["before"]"#)
        #expect(received.last == #"42/prices,["after"]"#)
        let indices = received.dropFirst().dropLast().map { $0.dropFirst(#"42/prices,["missed",""#.count).prefix { $0.isNumber } }
        #expect(indices.map { Int($0)! } == Array(0..<40))
        #expect(!session.isClosed)
    }

    @Test("live data queued behind a replay still counts as backlog: a socket that never reads is cut off")
    func liveDataBehindReplayIsBounded() throws {
        var configuration = EngineConfiguration()
        configuration.slowConsumerBytes = 64 * 1024
        let harness = Harness(configuration: configuration)
        let (channel, session, _) = try harness.client()
        let socket = try #require((session.handler as? SocketIOConnection)?.socket(for: "/prices"))
        channel.isWritable = false
        socket.replay(replayed(0..<4, size: 1024))
        for _ in 0..<80 { socket.emit("live", [.string(String(repeating: "y", count: 1024))]) }
        harness.loop.run()
        #expect(session.isClosed && session.closeReason == .slowConsumer)
    }

    @Test("a polling client takes a replay in batches of at most maxPayload")
    func pollingReplay() throws {
        var configuration = EngineConfiguration()
        configuration.slowConsumerBytes = 64 * 1024
        configuration.maxPayload = 40 * 1024
        let harness = Harness(configuration: configuration)
        let response = try value(harness.engine.openPollingSession(on: harness.loop, handshake: HandshakeInfo()), harness.loop)
        guard case .payload(var open) = response, let text = open.readString(length: open.readableBytes),
              let sid = try? JSONParser.parse(String(text.dropFirst()))["sid"]?.stringValue,
              let session = harness.engine.session(sid) else {
            Issue.record("no polling session")
            return
        }
        session.receive(.message("0/prices,"))
        let socket = try #require((session.handler as? SocketIOConnection)?.socket(for: "/prices"))
        socket.replay(replayed(0..<20, size: 10 * 1024))  // 200 KiB
        harness.loop.run()
        var records: [String] = []
        let connection = EmbeddedChannel(loop: harness.loop)
        while records.count < 21 {
            guard case .payload(let body) = try value(harness.engine.poll(sid: sid, connection: ChannelPollingConnection(channel: connection))!, harness.loop) else { break }
            let batch = String(buffer: body).split(separator: "\u{1e}").map(String.init)
            #expect(body.readableBytes <= configuration.maxPayload)
            records += batch
        }
        #expect(records.first?.hasPrefix("40/prices,") == true)
        #expect(records.dropFirst().map { $0.dropFirst(#"42/prices,["missed",""#.count).prefix { $0.isNumber } }.map { Int($0)! } == Array(0..<20))
        #expect(!session.isClosed)
    }
}

@Suite("Replays next to conflation")
struct ReplayConflationTests {
    @Test("a resync marker ahead of two replays: both replays whole and in order, then the snapshot; no marker is ever written")
    func resyncAheadOfReplay() throws {
        let harness = Harness(namespace: BookNamespace())
        let (channel, session, writer) = try harness.client(joining: "book")
        let socket = try #require((session.handler as? SocketIOConnection)?.socket(for: "/prices"))
        let book = ConflationKey(.init(room: RoomKey(namespace: "/prices", name: "r"), event: "book"), policy: .resyncBySnapshot)
        channel.isWritable = false
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "book"), event: "delta", payloadJSON: "1", conflation: book)
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "book"), event: "delta", payloadJSON: "2", conflation: book)
        harness.loop.run()
        socket.replay([OutboundMessage.event(namespace: "/prices", name: "missed", payloadJSON: "1")])
        socket.replay([OutboundMessage.event(namespace: "/prices", name: "missed", payloadJSON: "2")])
        harness.loop.run()
        channel.isWritable = true
        session.webSocketWritable(writer)
        harness.loop.run()
        session.webSocketWritable(writer)
        let texts = try harness.frames(channel).map { String(buffer: $0.getSlice(at: 2, length: $0.readableBytes - 2)!) }
        // The snapshot is asked for when the socket reaches the skipped delta, and queued then.
        #expect(texts == [#"42/prices,["missed",1]"#, #"42/prices,["missed",2]"#, #"42/prices,["snapshot","book"]"#])
        #expect(session.hasQueuedFrames == false)
    }
}
