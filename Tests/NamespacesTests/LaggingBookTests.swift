import GatewayJSON
import GatewayCore
import GatewayServer
import GatewayMetrics
import JWTAuth
import Logging
import MarketFeed
import NIOCore
import NIOEmbedded
@testable import Namespaces
import Testing

extension JSONValue {
    var numberText: String? {
        if case .number(let text) = self { return text }
        return nil
    }

    subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, index < items.count { return items[index] }
        return nil
    }
}

/// A `/market` depth subscriber whose socket keeps stalling, against the real namespaces,
/// market state and conflation: the book it rebuilds from what it receives must chain and
/// match every checksum, and end equal to the server's.
@Suite("Order books under forced conflation")
struct LaggingBookTests {
    /// The client: applies what arrives; snapshots replace, deltas must chain.
    struct ClientBook {
        var seq: UInt64?
        var bids: [String: (Double, String)] = [:]
        var asks: [String: (Double, String)] = [:]
        var snapshots = 0
        var deltas = 0

        mutating func apply(_ message: JSONValue) {
            let seq = UInt64(message["seq"]?.numberText ?? "") ?? 0
            if message["type"]?.stringValue == "snapshot" {
                bids = [:]
                asks = [:]
                snapshots += 1
            } else {
                #expect(message["prevSeq"]?.numberText == self.seq.map(String.init), "a delta chains onto the last depth message")
                deltas += 1
            }
            for (key, side) in [("bids", true), ("asks", false)] {
                guard case .array(let levels)? = message[key] else { continue }
                for level in levels {
                    guard case .array(let pair) = level, pair.count == 2 else { continue }
                    let price = pair[0].stringValue ?? pair[0].numberText ?? ""
                    let qty = pair[1].stringValue ?? pair[1].numberText ?? ""
                    let value = Double(price) ?? 0
                    if Double(qty) == 0 {
                        if side { bids[price] = nil } else { asks[price] = nil }
                    } else {
                        if side { bids[price] = (value, qty) } else { asks[price] = (value, qty) }
                    }
                }
            }
            self.seq = seq
            #expect(message["checksum"]?.numberText == String(checksum), "the rebuilt book matches the checksum at seq \(seq)")
        }

        var checksum: UInt32 {
            func levels(_ side: [String: (Double, String)], descending: Bool) -> [BookLevel] {
                side.sorted { descending ? $0.value.0 > $1.value.0 : $0.value.0 < $1.value.0 }.prefix(10).map {
                    BookLevel(price: DecimalText(.string($0.key))!, qty: DecimalText(.string($0.value.1))!)
                }
            }
            return OrderBook.checksum(bids: levels(bids, descending: true), asks: levels(asks, descending: false))
        }
    }

    @Test("stalls at random points never give a subscriber a wrong book", arguments: [
        ("raw", 100, true), ("100ms", 50, true), ("1000ms", 5, false),
    ] as [(String, Int, Bool)])
    func randomStalls(cadence: String, leastDeltas: Int, expectResync: Bool) throws {
        let loop = EmbeddedEventLoop()
        let metrics = GatewayMetrics()
        let broadcaster = Broadcaster(group: loop, metrics: metrics)
        let services = GatewayServices(
            settings: NamespaceSettings(), authenticator: JWTAuthenticator(key: .secret("namespace-test-secret-0123")),
            broadcaster: broadcaster, metrics: metrics, logger: Logger(label: "test")
        )
        let market = MarketState(
            feedLoop: loop, publisher: services.publisher, throttles: services.settings.throttles, metrics: metrics, logger: Logger(label: "test")
        )
        let engine = EngineServer(
            configuration: EngineConfiguration(), registry: NamespaceRegistry(GatewayNamespaces.make(services: services, market: market)),
            loops: broadcaster.loops, metrics: metrics, logger: Logger(label: "test")
        )
        var simulator = MarketSimulator(symbols: ["BTC/USDT"], seed: 11)
        var reference = OrderBook(symbol: "BTC/USDT")
        func feed(_ messages: [FeedMessage]) {
            for case .depth(let depth) in messages { _ = try? reference.apply(depth) }
            market.ingest(messages.filter { if case .depth = $0 { true } else { false } }, source: "test")
            loop.run()
        }
        feed(simulator.snapshots(now: 1))

        let channel = EmbeddedChannel(loop: loop)
        let writer = ChannelFrameWriter(channel: channel)
        let session = try #require(engine.makeWebSocketSession(writer: writer, on: writer.channel.eventLoop, handshake: HandshakeInfo(remoteAddress: "127.0.0.1")))
        engine.startWebSocketSession(session, writer: writer)
        session.webSocketReceived(.message("0/market,"), from: writer)
        session.webSocketReceived(.message(#"2/market,1["subscribe",{"channels":["depth"],"symbols":["BTC/USDT"],"cadence":"\#(cadence)"}]"#), from: writer)
        loop.run()

        var client = ClientBook()
        func read() throws {
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
              // A tick's frames may share one buffer: each is read in turn.
              while buffer.readableBytes > 0 {
                // Unmasked server frame: 2 header bytes, plus 2 or 8 length bytes for long ones.
                let lengthCode = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)! & 0x7F
                let header = lengthCode == 126 ? 4 : lengthCode == 127 ? 10 : 2
                let length = lengthCode == 126 ? Int(buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self)!)
                    : lengthCode == 127 ? Int(buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self)!) : Int(lengthCode)
                let text = Substring(String(buffer: buffer.getSlice(at: buffer.readerIndex + header, length: length)!))
                buffer.moveReaderIndex(forwardBy: header + length)
                if text.hasPrefix("43/market,1") {
                    let ack = try JSONParser.parse(String(text.dropFirst("43/market,1".count)))
                    if case .array(let snapshots)? = ack[0]?["snapshots"] { for snapshot in snapshots { client.apply(snapshot) } }
                } else if text.hasPrefix(#"42/market,["market.depth","#) {
                    let event = try JSONParser.parse(String(text.dropFirst("42/market,".count)))
                    if let payload = event[1] { client.apply(payload) }
                }
              }
            }
        }
        try read()
        #expect(client.snapshots == 1)

        var generator = SeededGenerator(seed: 5)
        for step in 0..<3000 {
            feed(simulator.step(now: Double(step)))
            loop.advanceTime(by: .milliseconds(5))
            // Stalls of about half a second on average, every few seconds.
            switch generator.next(upperBound: UInt64(100)) {
            case 0, 1: channel.isWritable = false
            case 2:
                if !channel.isWritable {
                    channel.isWritable = true
                    session.webSocketWritable(writer)
                    loop.run()
                }
            default: break
            }
            if channel.isWritable { try read() }
        }
        channel.isWritable = true
        session.webSocketWritable(writer)
        loop.advanceTime(by: .seconds(2))
        loop.run()
        try read()
        #expect(client.seq == reference.seq, "caught up with the server's book")
        #expect(client.checksum == reference.checksum)
        #expect(client.bids.count == reference.bidLevels().count && client.asks.count == reference.askLevels().count)
        if expectResync { #expect(client.snapshots > 1, "stalls forced resyncs") }
        #expect(client.deltas > leastDeltas)
    }
}

@Suite("Feed ingestion is bounded")
struct FeedBackpressureTests {
    @Test("a producer faster than the feed loop gets its batches refused whole, not queued without limit")
    func refusedWhenBehind() throws {
        let loop = EmbeddedEventLoop()
        let metrics = GatewayMetrics()
        let market = MarketState(
            feedLoop: loop, publisher: Broadcaster(group: loop, metrics: metrics), throttles: FeedThrottles(), metrics: metrics,
            logger: Logger(label: "test"), maxPending: 100
        )
        var simulator = MarketSimulator(symbols: ["BTC/USDT"], seed: 1)
        let batch = Array((0..<40).flatMap { simulator.step(now: Double($0)) }.prefix(60))
        let first = market.ingest(batch, source: "test")
        let second = market.ingest(batch, source: "test")
        #expect(first, "within the limit")
        #expect(!second, "the loop has not run: a second batch would pass the limit")
        loop.run()
        let third = market.ingest(batch, source: "test")
        #expect(third, "once the loop caught up, batches are taken again")
        loop.run()
    }
}
