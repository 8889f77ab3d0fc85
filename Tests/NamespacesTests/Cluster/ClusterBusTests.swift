import GatewayCore
import GatewayJSON
import GatewayMetrics
import Logging
import MarketFeed
import NIOCore
import NIOEmbedded
import Testing

@testable import Namespaces

/// Instances on one in-memory broker hub and shared history: each with its own local bus,
/// user-event hub, user and symbol interest, and cluster bus.
struct ClusterHarness {
    let hub = InMemoryBrokerHub()
    let streams = InMemoryHistory.SharedStreams()
    var instances: [Instance] = []

    struct Instance {
        let broker: InMemoryBroker
        let history: InMemoryHistory
        let local: RecordingLocalBus
        let sockets: RecordingPublisher
        let interest: UserInterest
        let symbols: SymbolInterest
        let bus: ClusterBus
        let metrics: GatewayMetrics
    }

    init(instances count: Int) {
        for index in 0..<count {
            let broker = hub.broker("instance-\(index)")
            let history = InMemoryHistory(broker: broker, shared: streams)
            let local = RecordingLocalBus()
            let sockets = RecordingPublisher()
            let interest = UserInterest(limit: 10)
            let symbols = SymbolInterest()
            let metrics = GatewayMetrics()
            let userEvents = UserEventHub(publisher: sockets, metrics: metrics, settings: RecoverySettings(), interest: interest, now: { 0 })
            let bus = ClusterBus(
                local: local, broker: broker, history: history, interest: interest, userEvents: userEvents, symbolInterest: symbols,
                market: nil, symbols: SymbolCatalog(symbols: ["BTC/USDT", "ETH/USDT"]), metrics: metrics, logger: Logger(label: "test"),
                eventLoop: hub.loop, symbolLinger: .milliseconds(10)
            )
            bus.start()
            instances.append(Instance(broker: broker, history: history, local: local, sockets: sockets, interest: interest, symbols: symbols, bus: bus, metrics: metrics))
        }
    }

    func run() { hub.loop.run() }
}

@Suite("The cluster bus on in-memory broker and history ports")
struct ClusterBusTests {
    @Test("a broadcast accepted by one instance is delivered once by every instance")
    func broadcastOnce() {
        let cluster = ClusterHarness(instances: 3)
        cluster.instances[1].bus.broadcast(AdminOperations.Broadcast(message: "restart at 10:00", level: "info", namespaces: ["/prices"]))
        cluster.run()
        for instance in cluster.instances { #expect(instance.local.broadcasts == ["restart at 10:00"]) }
    }

    @Test("a user's events reach only the instances where the user is present, once each, in the stream's order and offsets")
    func userEventsFollowPresence() {
        let cluster = ClusterHarness(instances: 3)
        let (a, b, c) = (cluster.instances[0], cluster.instances[1], cluster.instances[2])
        #expect(a.interest.acquire("alice"))
        #expect(b.interest.acquire("alice"))
        cluster.run()
        for n in 1...3 { c.bus.userEvent(userId: "alice", event: "order.new", payloadJSON: #"{"n":\#(n)}"#, streamEntry: nil) }
        cluster.run()
        for instance in [a, b] {
            let orders = instance.sockets.rooms.filter { $0.hasPrefix("orders:alice ") }
            #expect(orders.count == 3, "once each")
            #expect(orders.map { $0.contains(#"{"n":1}"#) } == [true, false, false], "in order")
            let offsets = instance.sockets.rooms.filter { $0.hasPrefix("orders#offsets:alice ") }
            #expect(offsets.map { $0.hasSuffix(#","1"]"#) || $0.hasSuffix(#","2"]"#) || $0.hasSuffix(#","3"]"#) } == [true, true, true], "the stream's offsets")
        }
        #expect(c.sockets.rooms.isEmpty, "an instance without the user hears nothing of them")
        #expect(a.local.userEvents.isEmpty, "stream events are the hub's, not a plain local delivery")
    }

    @Test("an instance follows a user's channel only while the user is present there")
    func followsWhilePresent() {
        let cluster = ClusterHarness(instances: 2)
        let (a, b) = (cluster.instances[0], cluster.instances[1])
        let channel = BrokerChannel("user:bob")
        #expect(b.interest.acquire("bob"))
        #expect(b.broker.follows.contains(channel))
        b.interest.release("bob")
        #expect(!b.broker.follows.contains(channel))
        a.bus.userEvent(userId: "bob", event: "wallet.update", payloadJSON: "{}", streamEntry: nil)
        cluster.run()
        #expect(b.sockets.rooms.isEmpty, "gone before the event")
        b.interest.holdRecovery("bob")
        #expect(b.broker.follows.contains(channel), "a kept recovery session keeps the user followed")
    }

    @Test("a producers' stream entry read by every instance is delivered once")
    func streamEntryOnce() {
        let cluster = ClusterHarness(instances: 2)
        for instance in cluster.instances { #expect(instance.interest.acquire("dora")) }
        for instance in cluster.instances { instance.bus.userEvent(userId: "dora", event: "margin.call", payloadJSON: "{}", streamEntry: "1-1") }
        cluster.run()
        for instance in cluster.instances { #expect(instance.sockets.rooms.filter { $0.hasPrefix("user:dora ") }.count == 1) }
    }

    @Test("with the history unreachable an event still reaches this instance's sockets, counted as local only")
    func historyDown() {
        let cluster = ClusterHarness(instances: 2)
        let (a, b) = (cluster.instances[0], cluster.instances[1])
        a.history.reachable = false
        #expect(b.interest.acquire("erin"))
        a.bus.userEvent(userId: "erin", event: "order.new", payloadJSON: "{}", streamEntry: nil)
        cluster.run()
        #expect(a.local.userEvents == ["erin order.new"])
        #expect(b.sockets.rooms.isEmpty)
        #expect(localOnly(a.metrics) == 1)
    }

    @Test("HTTP market data of a symbol goes only to instances with a subscriber for it, and stops a moment after the last one leaves")
    func marketFollowsSubscribers() throws {
        let cluster = ClusterHarness(instances: 2)
        let (a, b) = (cluster.instances[0], cluster.instances[1])
        let parser = FeedParser(catalog: SymbolCatalog(symbols: ["BTC/USDT"]))
        let tick = try parser.parse(.object([
            "type": "tick", "symbol": "BTC/USDT", "price": "1.0", "bid": "0.9", "ask": "1.1", "volume": "5",
            "ts": .number("1718000000123"),
        ]))
        #expect(a.bus.market([tick]))
        cluster.run()
        #expect(b.local.marketMessages == 0, "no subscriber on b")
        b.symbols.add(["BTC/USDT"])
        cluster.run()
        #expect(a.bus.market([tick]))
        cluster.run()
        #expect(b.local.marketMessages == 1)
        b.symbols.remove(["BTC/USDT"])
        cluster.run()
        try cluster.hub.loop.advanceTime(by: .milliseconds(20))
        #expect(!b.broker.follows.contains(BrokerChannel("market:BTC/USDT")), "dropped once the linger passed")
        #expect(a.local.marketMessages == 2, "the accepting instance delivers at once")
    }

    @Test("a symbol wanted while the broker is away asks for the latest values once it is back, and after every reconnect")
    func latestAfterReconnect() {
        let cluster = ClusterHarness(instances: 2)
        let b = cluster.instances[1]
        let asked = { cluster.hub.requests.filter { $0.from == "instance-1" && $0.body["command"]?.stringValue == "latest" }.count }
        b.broker.connected = false
        b.symbols.add(["ETH/USDT"])
        cluster.run()
        #expect(asked() == 0, "nobody to ask yet")
        b.broker.reconnect()
        cluster.run()
        #expect(asked() == 1)
        #expect(b.broker.follows.contains(BrokerChannel("market:ETH/USDT")))
        b.broker.connected = false
        b.broker.reconnect()
        cluster.run()
        #expect(asked() == 2, "what changed while away was not heard: asked again")
    }

    @Test("kick and stats gather every instance's answer")
    func requests() throws {
        let cluster = ClusterHarness(instances: 3)
        for (index, instance) in cluster.instances.enumerated() { instance.local.kicked = index + 1 }
        let kicked = cluster.instances[0].bus.kick(.user("mallory"), on: cluster.hub.loop)
        cluster.run()
        #expect(try kicked.wait() == 6)
        let stats = cluster.instances[0].bus.stats(on: cluster.hub.loop)
        cluster.run()
        #expect(try stats.wait()["instances"]?.intValue == 3)
    }

    @Test("maintenance reaches every instance; a disconnected broker keeps it local and counts it")
    func maintenance() {
        let cluster = ClusterHarness(instances: 2)
        let (a, b) = (cluster.instances[0], cluster.instances[1])
        a.bus.maintenance(enabled: true, message: nil)
        cluster.run()
        #expect(a.local.maintenance == [true] && b.local.maintenance == [true])
        a.broker.connected = false
        a.bus.maintenance(enabled: false, message: nil)
        cluster.run()
        #expect(a.local.maintenance == [true, false] && b.local.maintenance == [true])
        #expect(localOnly(a.metrics) == 1)
    }
}

@Suite("Cluster messages and user interest")
struct ClusterMessageTests {
    @Test("every cluster message reads back as itself", arguments: [
        ClusterMessage.userEvent(userId: "u 1/ü", event: "order.filled", payloadJSON: #"{"orderId":"o1","price":"64000.10","n":1.50}"#),
        .broadcast(.object(["message": "Back at 10:00", "level": "warning", "namespaces": .array(["/prices"])])),
        .market([.object(["type": "tick", "symbol": "BTC/USDT", "price": "1.0", "ts": .number("1718000000123.456")])]),
        .maintenance(enabled: true, message: "Back at 10:00"),
        .maintenance(enabled: false, message: nil),
    ])
    func roundTrip(message: ClusterMessage) {
        #expect(ClusterMessage(message.body) == message)
    }

    @Test("an admin event from the bus is only market.occupancy, rebuilt from checked fields")
    func adminEvents() {
        let notice = OccupancyNotice(symbol: "BTC/USDT", watched: true, version: 3, ts: 1_796_668_496_588)
        let message = ClusterMessage.adminEvent(event: "market.occupancy", payload: notice.json)
        #expect(ClusterMessage(message.body) == message)
        let forged: [JSONValue] = [
            .object(["kind": "admin", "event": "market.anything", "data": notice.json]),
            .object(["kind": "admin", "event": "market.occupancy", "data": .object(["symbol": .string("<script>"), "watched": true, "version": 1, "ts": 1])]),
            .object(["kind": "admin", "event": "market.occupancy", "data": .object(["symbol": .string("BTC/USDT"), "watched": .string("yes"), "version": 1, "ts": 1])]),
        ]
        for body in forged { #expect(ClusterMessage(body) == nil, "\(body)") }
    }

    @Test("bodies that are none of them are not read")
    func garbage() {
        for body: JSONValue in [.object([]), .object(["kind": "user"]), .object(["kind": "market", "messages": 1]), .array([]), .string("x")] {
            #expect(ClusterMessage(body) == nil, "\(body)")
        }
    }

    @Test("user interest: the cap holds, and the bus hears of a user's first and last socket only")
    func interest() {
        let interest = UserInterest(limit: 2)
        let heard = Heard()
        interest.observe { heard.add($0); return nil }
        #expect(interest.acquire("alice"))
        #expect(interest.acquire("alice"))
        #expect(!interest.acquire("alice"), "the per-user cap")
        #expect(interest.acquire("bob"))
        #expect(heard.names == ["alice", "bob"], "first sockets only")
        interest.release("alice")
        #expect(interest.isPresent("alice"))
        interest.release("alice")
        #expect(!interest.isPresent("alice"))
        #expect(heard.names == ["alice", "bob", "alice"], "and the last one")
        #expect(Set(interest.presentUsers) == ["bob"])
        interest.holdRecovery("carol")
        #expect(interest.isPresent("carol") && interest.activeKeys == 1, "held, but no socket counted")
        #expect(interest.acquire("carol"))
        interest.release("carol")
        #expect(interest.isPresent("carol"), "the session still holds the user")
        interest.releaseRecovery("carol")
        #expect(!interest.isPresent("carol"))
        #expect(heard.names == ["alice", "bob", "alice", "carol", "carol"], "present once, absent once")
    }
}

/// `gateway_bus_messages_total{direction="local_only"}` as Prometheus shows it.
private func localOnly(_ metrics: GatewayMetrics) -> Int? {
    let text = String(decoding: metrics.exposition(), as: UTF8.self)
    let line = text.split(separator: "\n").first { $0.hasPrefix("gateway_bus_messages_total") && $0.contains(#"direction="local_only""#) }
    return line.flatMap { $0.split(separator: " ").last }.flatMap { Int(Double($0) ?? -1) }
}

private final class Heard: @unchecked Sendable {
    private(set) var names: [String] = []
    func add(_ name: String) { names.append(name) }
}
