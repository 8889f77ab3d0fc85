import Foundation
import GatewayJSON
import GatewayCore
import GatewayServer
import GatewayMetrics
import Logging
import NIOCore
import NIOConcurrencyHelpers
import NIOEmbedded
import NIOPosix
import SocketIOCodec
import Testing

/// A namespace whose clients join the room they name.
final class RoomNamespace: NamespaceHandler {
    let name: NamespacePath = "/prices"
    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket, state: NoSocketState) {
        if event == "join", let room = arguments.first?.stringValue { socket.join(RoomKey(namespace: name, name: room)) }
    }
}

/// An engine on one embedded loop, with WebSocket sessions on embedded channels.
struct Harness {
    let loop = EmbeddedEventLoop()
    let metrics = GatewayMetrics()
    let engine: EngineServer
    let broadcaster: Broadcaster

    init(configuration: EngineConfiguration = EngineConfiguration(), namespace: any NamespaceHandler = RoomNamespace()) {
        broadcaster = Broadcaster(group: loop, metrics: metrics)
        engine = EngineServer(
            configuration: configuration,
            registry: NamespaceRegistry([namespace]),
            loops: broadcaster.loops,
            metrics: metrics,
            logger: Logger(label: "test")
        )
    }

    /// A connected `/prices` client; its outbound so far is drained.
    func client(joining room: String? = nil) throws -> (EmbeddedChannel, EngineSession, ChannelFrameWriter) {
        let channel = EmbeddedChannel(loop: loop)
        let writer = ChannelFrameWriter(channel: channel)
        let session = try #require(engine.makeWebSocketSession(writer: writer, on: writer.channel.eventLoop, handshake: HandshakeInfo()))
        engine.startWebSocketSession(session, writer: writer)
        session.webSocketReceived(.message("0/prices,"), from: writer)
        if let room { session.webSocketReceived(.message("2/prices,[\"join\",\"\(room)\"]"), from: writer) }
        loop.run()
        _ = try frames(channel)
        return (channel, session, writer)
    }

    /// The WebSocket frames written to `channel`, one buffer each (a socket's frames of one
    /// loop tick arrive joined in one write).
    func frames(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes >= 2 {
                let start = buffer.readerIndex
                let short = Int(buffer.getInteger(at: start + 1, as: UInt8.self)! & 0x7F)
                let (header, length) = short == 127 ? (10, Int(buffer.getInteger(at: start + 2, as: UInt64.self)!))
                    : short == 126 ? (4, Int(buffer.getInteger(at: start + 2, as: UInt16.self)!)) : (2, short)
                out.append(buffer.readSlice(length: header + length)!)
            }
        }
        return out
    }
}

@Suite("Broadcaster")
struct BroadcastTests {
    @Test("a room emit reaches members only, as the same pre-encoded frame")
    func roomMembersOnly() throws {
        let harness = Harness()
        let (first, _, _) = try harness.client(joining: "prices:BTC/USDT")
        let (second, _, _) = try harness.client(joining: "prices:BTC/USDT")
        let (outsider, _, _) = try harness.client(joining: "prices:ETH/USDT")
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "prices:BTC/USDT"), event: "price.update", payloadJSON: #"{"price":"1"}"#)
        harness.loop.run()
        let expected = EncodedFrame(text: #"42/prices,["price.update",{"price":"1"}]"#).frame
        #expect(try harness.frames(first) == [expected])
        #expect(try harness.frames(second) == [expected])
        #expect(try harness.frames(outsider).isEmpty)
    }

    @Test("a namespace-wide emit reaches every socket of that namespace")
    func namespaceWide() throws {
        let harness = Harness()
        let clients = try (0..<5).map { _ in try harness.client() }
        harness.broadcaster.emit(to: .everyone(in: "/prices"), event: "system.broadcast", payloadJSON: #"{"level":"info"}"#)
        harness.loop.run()
        for (channel, _, _) in clients { #expect(try harness.frames(channel).count == 1) }
    }

    @Test("the session peak remembers a crowd that came and went between two looks, then starts over")
    func sessionPeak() throws {
        let harness = Harness()
        #expect(harness.engine.takeSessionPeak() == 0)
        let sessions = try (0..<3).map { _ in try harness.client().1 }
        sessions[0].close(reason: .forcedServerClose)
        sessions[1].close(reason: .forcedServerClose)
        harness.loop.run()
        #expect(harness.engine.sessionCount == 1)
        #expect(harness.engine.takeSessionPeak() == 3)
        #expect(harness.engine.takeSessionPeak() == 1)
    }

    @Test("a socket that stops reading is closed once its backlog passes slowConsumerBytes")
    func slowConsumer() throws {
        let harness = Harness(configuration: EngineConfiguration(slowConsumerBytes: 64 * 1024))
        let (stalled, stalledSession, _) = try harness.client(joining: "r")
        let (healthy, _, _) = try harness.client(joining: "r")
        stalled.isWritable = false
        let payload = "\"" + String(repeating: "x", count: 10_000) + "\""
        for _ in 0..<10 {
            harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "tick", payloadJSON: payload)
            harness.loop.run()
        }
        #expect(stalledSession.isClosed)
        #expect(stalledSession.closeReason == .slowConsumer)
        #expect(try harness.frames(healthy).count == 10)
        #expect(harness.engine.sessionCount == 1)
    }

    @Test("pings go out ahead of a backlog, and a missing pong closes the session")
    func pingsJumpTheQueue() throws {
        let harness = Harness(configuration: EngineConfiguration(pingInterval: .seconds(1), pingTimeout: .seconds(1)))
        let (channel, session, _) = try harness.client(joining: "r")
        channel.isWritable = false
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "tick", payloadJSON: "1")
        harness.loop.run()
        #expect(try harness.frames(channel).isEmpty)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(try harness.frames(channel) == [EncodedFrame(text: "2").frame])
        harness.loop.advanceTime(by: .seconds(1))
        #expect(session.isClosed)
        #expect(session.closeReason == .pingTimeout)
    }

    @Test("queued frames follow in order once the socket is writable again")
    func drainInOrder() throws {
        let harness = Harness()
        let (channel, session, writer) = try harness.client(joining: "r")
        channel.isWritable = false
        for index in 0..<3 {
            harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "tick", payloadJSON: "\(index)")
        }
        harness.loop.run()
        #expect(try harness.frames(channel).isEmpty)
        channel.isWritable = true
        session.webSocketWritable(writer)
        let texts = try harness.frames(channel).map { String(buffer: $0.getSlice(at: 2, length: $0.readableBytes - 2)!) }
        #expect(texts == [#"42/prices,["tick",0]"#, #"42/prices,["tick",1]"#, #"42/prices,["tick",2]"#])
    }

    @Test("a broadcast to more sockets than one flush round reaches every one, the rest a round later")
    func flushRoundsReachEveryone() throws {
        let harness = Harness()
        let clients = try (0..<300).map { _ in try harness.client(joining: "prices:BTC/USDT") }
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "prices:BTC/USDT"), event: "price.update", payloadJSON: #"{"price":"1"}"#)
        harness.loop.run()
        let first = try clients.filter { !(try harness.frames($0.0)).isEmpty }.count
        // One round flushes `flushChunk` sockets; the loop polls its sockets before the next.
        #expect(first == LoopContext.flushChunk)
        harness.loop.advanceTime(by: .milliseconds(1))
        let rest = try clients.filter { !(try harness.frames($0.0)).isEmpty }.count
        #expect(first + rest == 300)
    }

    @Test("broadcasts posted from another thread arrive in the order they were posted")
    func postedBroadcastsKeepOrder() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let context = LoopContext(eventLoop: group.next())
        let seen = NIOLockedValueBox<[Int]>([])
        for index in 0..<1_000 { context.post { seen.withLockedValue { $0.append(index) } } }
        try context.eventLoop.submit {}.wait()
        var waited = 0
        while seen.withLockedValue({ $0.count }) < 1_000 && waited < 200 {
            Thread.sleep(forTimeInterval: 0.01)
            waited += 1
        }
        #expect(seen.withLockedValue { $0 } == Array(0..<1_000))
    }

    @Test("work posted during a pass waits for the next pass, after the loop has polled its sockets")
    func postedDuringAPassWaitsForTheNext() {
        let loop = EmbeddedEventLoop()
        let context = LoopContext(eventLoop: loop)
        let order = NIOLockedValueBox<[String]>([])
        context.post {
            order.withLockedValue { $0.append("first") }
            context.post { order.withLockedValue { $0.append("posted during the pass") } }
        }
        context.post { order.withLockedValue { $0.append("second") } }
        loop.execute { order.withLockedValue { $0.append("a task queued meanwhile") } }
        loop.run()
        // One pass took both; what came during it is not run in the same loop tick.
        #expect(order.withLockedValue { $0 } == ["first", "second", "a task queued meanwhile"])
        loop.advanceTime(by: LoopContext.passGap)
        #expect(order.withLockedValue { $0 } == ["first", "second", "a task queued meanwhile", "posted during the pass"])
    }
}
