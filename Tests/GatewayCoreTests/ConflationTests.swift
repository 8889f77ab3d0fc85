import GatewayJSON
import GatewayCore
import GatewayServer
import GatewayMetrics
import Logging
import NIOCore
import NIOEmbedded
import SocketIOCodec
import Testing

/// Joins rooms like ``RoomNamespace`` and answers a resync with a `snapshot` event.
final class BookNamespace: NamespaceHandler {
    let name: NamespacePath = "/prices"
    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket, state: NoSocketState) {
        if event == "join", let room = arguments.first?.stringValue { socket.join(RoomKey(namespace: name, name: room)) }
    }

    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, state: NoSocketState) {
        socket.session.endResync(key)
        socket.emit("snapshot", [.string(key.stream.event)] + (skipped.map { [.string("from \($0.lowerBound)")] } ?? []))
    }

    /// Declares skipped numbered messages as a `gap` event with their range.
    func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, socket: NamespaceSocket, state: NoSocketState) -> EncodedFrame? {
        OutboundMessage.event(namespace: name, name: "gap", payloadJSON: "\"\(skipped.lowerBound)-\(skipped.upperBound)\"").header
    }
}

@Suite("Conflation for sockets that fall behind")
struct ConflationTests {
    let latest = { (symbol: String) in ConflationKey(.init(room: RoomKey(namespace: "/prices", name: "r"), event: "price.update|" + symbol), policy: .latestWins) }
    let book = ConflationKey(.init(room: RoomKey(namespace: "/prices", name: "r"), event: "book"), policy: .resyncBySnapshot)

    func texts(_ harness: Harness, _ channel: EmbeddedChannel) throws -> [String] {
        try harness.frames(channel).map { String(buffer: $0.getSlice(at: 2, length: $0.readableBytes - 2)!) }
    }

    @Test("a lagging socket gets the newest price per symbol; others and unconflated events get everything")
    func latestWins() throws {
        let harness = Harness()
        let (lagging, session, writer) = try harness.client(joining: "r")
        let (healthy, _, _) = try harness.client(joining: "r")
        lagging.isWritable = false
        for index in 0..<10 {
            harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "p", payloadJSON: "\"BTC\(index)\"", conflation: latest("BTC"))
            if index % 2 == 0 {
                harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "p", payloadJSON: "\"ETH\(index)\"", conflation: latest("ETH"))
            }
            if index % 3 == 0 {
                harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "trade", payloadJSON: "\(index)")
            }
        }
        harness.loop.run()
        #expect(try harness.frames(healthy).count == 10 + 5 + 4)
        lagging.isWritable = true
        session.webSocketWritable(writer)
        #expect(try texts(harness, lagging) == [
            #"42/prices,["p","BTC9"]"#, #"42/prices,["p","ETH8"]"#,
            #"42/prices,["trade",0]"#, #"42/prices,["trade",3]"#, #"42/prices,["trade",6]"#, #"42/prices,["trade",9]"#,
        ])
        // Caught up: the next price goes straight out again.
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "p", payloadJSON: "\"BTC10\"", conflation: latest("BTC"))
        harness.loop.run()
        #expect(try texts(harness, lagging) == [#"42/prices,["p","BTC10"]"#])
    }

    @Test("a skipped chained message becomes a snapshot when the socket catches up, and the stream resumes after it")
    func resyncBySnapshot() throws {
        let harness = Harness(namespace: BookNamespace())
        let (lagging, session, writer) = try harness.client(joining: "r")
        lagging.isWritable = false
        for index in 1...5 {
            harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "delta", payloadJSON: "\(index)", conflation: book)
        }
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "trade", payloadJSON: "1")
        harness.loop.run()
        lagging.isWritable = true
        session.webSocketWritable(writer)
        // The snapshot is asked for when the socket reaches the skipped spot, and queued behind
        // what is already waiting.
        #expect(try texts(harness, lagging) == [#"42/prices,["trade",1]"#, #"42/prices,["snapshot","book"]"#])
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "delta", payloadJSON: "6", conflation: book)
        harness.loop.run()
        #expect(try texts(harness, lagging) == [#"42/prices,["delta",6]"#])
    }

    @Test("a lagging socket skips older trades for the newest, and is told which, in stream order")
    func declaredGaps() throws {
        let harness = Harness(namespace: BookNamespace())
        let (lagging, session, writer) = try harness.client(joining: "r")
        let (healthy, _, _) = try harness.client(joining: "r")
        let room = RoomKey(namespace: "/prices", name: "r")
        let trades = ConflationKey(.init(room: room, event: "trade"), policy: .declaredGap)
        func trade(_ seq: UInt64) {
            harness.broadcaster.publish(.event(namespace: "/prices", name: "trade", payloadJSON: "\(seq)", conflation: trades, sequences: seq...seq), to: [room], ordered: false)
        }
        lagging.isWritable = false
        trade(1)
        trade(2)
        harness.broadcaster.emit(to: room, event: "news", payloadJSON: "0")
        for seq in UInt64(3)...9 { trade(seq) }
        harness.loop.run()
        #expect(try harness.frames(healthy).count == 10, "a socket that keeps up gets every trade")
        lagging.isWritable = true
        session.webSocketWritable(writer)
        // The notice sits where the first skipped trade was: before what followed it.
        #expect(try texts(harness, lagging) == [#"42/prices,["gap","1-8"]"#, #"42/prices,["news",0]"#, #"42/prices,["trade",9]"#])
        trade(10)
        harness.loop.run()
        #expect(try texts(harness, lagging) == [#"42/prices,["trade",10]"#], "caught up: trades flow one by one again")
        lagging.isWritable = false
        trade(11)
        trade(12)
        harness.loop.run()
        lagging.isWritable = true
        session.webSocketWritable(writer)
        #expect(try texts(harness, lagging) == [#"42/prices,["gap","11-11"]"#, #"42/prices,["trade",12]"#], "a later lag is declared on its own")
    }

    @Test("a stalled socket's skipped trades of two symbols stay two notices, however many trades pass")
    func declaredGapsStayCompact() throws {
        let harness = Harness(configuration: EngineConfiguration(slowConsumerBytes: 64 * 1024), namespace: BookNamespace())
        let (lagging, session, writer) = try harness.client(joining: "r")
        let room = RoomKey(namespace: "/prices", name: "r")
        let keys = ["A", "B"].map { ConflationKey(.init(room: room, event: "trade", subject: $0), policy: .declaredGap) }
        lagging.isWritable = false
        // Far more trades than the bound would hold if each stayed queued (or left a slot).
        for seq in UInt64(1)...20_000 {
            let key = keys[Int(seq % 2)]
            harness.broadcaster.publish(
                .event(namespace: "/prices", name: "trade", payloadJSON: "\"\(key.stream.subject)\(seq)\"", conflation: key, sequences: seq...seq),
                to: [room], ordered: false
            )
            if seq % 1_000 == 0 { harness.loop.run() }
        }
        harness.loop.run()
        #expect(!session.isClosed, "conflated trades never make a slow consumer")
        lagging.isWritable = true
        session.webSocketWritable(writer)
        let got = try texts(harness, lagging)
        #expect(got.count == 4, "\(got.prefix(6))")
        #expect(got.contains(#"42/prices,["trade","A20000"]"#) && got.contains(#"42/prices,["trade","B19999"]"#))
        let gaps = got.filter { $0.contains("\"gap\"") }
        #expect(gaps.count == 2, "one notice per symbol, each covering what that symbol skipped")
    }

    @Test("a resync says which sequences the socket skipped")
    func resyncCarriesTheSkippedRange() throws {
        let harness = Harness(namespace: BookNamespace())
        let (lagging, session, writer) = try harness.client(joining: "r")
        let room = RoomKey(namespace: "/prices", name: "r")
        lagging.isWritable = false
        for seq in UInt64(4)...8 {
            harness.broadcaster.publish(.event(namespace: "/prices", name: "delta", payloadJSON: "\(seq)", conflation: book, sequences: seq...seq), to: [room], ordered: false)
        }
        harness.loop.run()
        lagging.isWritable = true
        session.webSocketWritable(writer)
        let got = try texts(harness, lagging)
        // Deltas 6-8 were held (dropped) once the resync was due: the snapshot covers them.
        #expect(got == [#"42/prices,["snapshot","book","from 4"]"#], "\(got)")
    }

    @Test("one queued chained message is not skipped: it is delivered as it is")
    func singleChainedMessageKept() throws {
        let harness = Harness(namespace: BookNamespace())
        let (lagging, session, writer) = try harness.client(joining: "r")
        lagging.isWritable = false
        harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "delta", payloadJSON: "1", conflation: book)
        harness.loop.run()
        lagging.isWritable = true
        session.webSocketWritable(writer)
        #expect(try texts(harness, lagging) == [#"42/prices,["delta",1]"#])
    }

    @Test("conflation keeps a lagging socket's memory flat: no slow-consumer close for a stream of prices")
    func boundedByConflation() throws {
        let harness = Harness(configuration: EngineConfiguration(slowConsumerBytes: 64 * 1024))
        let (lagging, session, _) = try harness.client(joining: "r")
        lagging.isWritable = false
        let payload = "\"" + String(repeating: "x", count: 10_000) + "\""
        for _ in 0..<100 {
            harness.broadcaster.emit(to: RoomKey(namespace: "/prices", name: "r"), event: "p", payloadJSON: payload, conflation: latest("BTC"))
            harness.loop.run()
        }
        #expect(!session.isClosed)
    }
}
