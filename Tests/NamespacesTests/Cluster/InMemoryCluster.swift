import GatewayCore
import GatewayJSON
import MarketFeed
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded

@testable import Namespaces

/// The brokers of several instances in one process: a publish reaches every broker that follows
/// the channel, in order, on the shared embedded loop; a request reaches every other broker.
final class InMemoryBrokerHub: @unchecked Sendable {
    let loop = EmbeddedEventLoop()
    private(set) var brokers: [InMemoryBroker] = []
    /// Every publish, in order: (publisher, channel, body).
    private(set) var published: [(from: String, channel: String, body: JSONValue)] = []

    func broker(_ id: String) -> InMemoryBroker {
        let broker = InMemoryBroker(id: id, hub: self)
        brokers.append(broker)
        return broker
    }

    func deliver(_ body: JSONValue, on channel: BrokerChannel, from sender: String) {
        published.append((sender, channel.name, body))
        for broker in brokers where broker.connected && broker.follows.contains(channel) {
            loop.execute { broker.handlers?.0(BrokerMessage(channel: channel, body: body, isOwn: broker.id == sender)) }
        }
    }

    /// Every request, in order: (asker, body).
    private(set) var requests: [(from: String, body: JSONValue)] = []

    func ask(_ body: JSONValue, from sender: String, on eventLoop: any EventLoop) -> EventLoopFuture<[JSONValue]> {
        requests.append((sender, body))
        let answers = brokers.filter { $0.id != sender && $0.connected }.compactMap { $0.handlers?.1(body, loop) }
        return EventLoopFuture.whenAllSucceed(answers, on: loop).hop(to: eventLoop)
    }
}

/// One instance's ``Broker`` on the hub; `connected` switches its link off and on.
final class InMemoryBroker: Broker, @unchecked Sendable {
    let id: String
    unowned let hub: InMemoryBrokerHub
    var connected = true
    private(set) var follows: Set<BrokerChannel> = []
    var handlers: ((@Sendable (BrokerMessage) -> Void), (@Sendable (JSONValue, any EventLoop) -> EventLoopFuture<JSONValue>?), (@Sendable () -> Void))?

    init(id: String, hub: InMemoryBrokerHub) {
        self.id = id
        self.hub = hub
    }

    var isConnected: Bool { connected }

    func start(
        onMessage: @escaping @Sendable (BrokerMessage) -> Void, onRequest: @escaping @Sendable (JSONValue, any EventLoop) -> EventLoopFuture<JSONValue>?,
        onConnected: @escaping @Sendable () -> Void
    ) {
        handlers = (onMessage, onRequest, onConnected)
    }

    /// The link comes back: the followed channels are followed again, and the features told.
    func reconnect() {
        connected = true
        handlers?.2()
    }

    @discardableResult
    func publish(_ body: JSONValue, on channel: BrokerChannel) -> EventLoopFuture<Void>? {
        guard connected else { return nil }
        hub.deliver(body, on: channel, from: id)
        return hub.loop.makeSucceededVoidFuture()
    }

    func follow(_ channel: BrokerChannel) -> EventLoopFuture<Void>? {
        follows.insert(channel)
        return connected ? hub.loop.makeSucceededVoidFuture() : nil
    }

    func unfollow(_ channel: BrokerChannel) { follows.remove(channel) }

    func request(_ body: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<[JSONValue]> {
        connected ? hub.ask(body, from: id, on: eventLoop) : eventLoop.makeSucceededFuture([])
    }
}

/// Users' streams shared by the instances of a hub: an append numbers the event, keeps it and
/// publishes the body with its offset through the appending instance's broker.
final class InMemoryHistory: HistoryStore, @unchecked Sendable {
    let broker: InMemoryBroker
    let shared: SharedStreams
    var reachable = true

    final class SharedStreams: @unchecked Sendable {
        var streams: [String: [UserEventEntry]] = [:]
        var taken: Set<String> = []
        var next: UInt64 = 0
    }

    init(broker: InMemoryBroker, shared: SharedStreams) {
        self.broker = broker
        self.shared = shared
    }

    func append(
        _ entry: (channel: String, event: String, payloadJSON: String), of userId: String,
        publishing body: JSONValue, on channel: BrokerChannel, sourceEntry: String?
    ) -> EventLoopFuture<HistoryAppend>? {
        guard reachable else { return nil }
        if let sourceEntry, !shared.taken.insert(sourceEntry).inserted { return broker.hub.loop.makeSucceededFuture(.alreadyTaken) }
        shared.next += 1
        let offset = shared.next
        shared.streams[userId, default: []].append(UserEventEntry(offset: offset, channel: entry.channel, event: entry.event, payloadJSON: entry.payloadJSON, at: 0))
        guard case .object(var members) = body else { return nil }
        members.append(JSONMember("offset", .string(String(offset))))
        broker.hub.deliver(.object(members), on: channel, from: broker.id)
        return broker.hub.loop.makeSucceededFuture(.published(offset: offset))
    }

    func offset(in body: JSONValue) -> UInt64? { body["offset"]?.stringValue.flatMap(UInt64.init) }

    func begin(userId: String, pid: String?, offset: UInt64?, following channel: BrokerChannel, on eventLoop: any EventLoop)
        -> EventLoopFuture<SharedRecoveryAnswer>?
    {
        guard reachable else { return nil }
        return eventLoop.makeSucceededFuture(.fresh(baseline: shared.streams[userId]?.last?.offset ?? 0))
    }

    func keep(_ session: RecoverySession) -> EventLoopFuture<Bool>? { reachable ? broker.hub.loop.makeSucceededFuture(true) : nil }
}

/// The local bus of one instance, as far as the cluster sees it: what it was asked to deliver.
final class RecordingLocalBus: GatewayBus, @unchecked Sendable {
    private(set) var broadcasts: [String] = []
    private(set) var adminEvents: [String] = []
    private(set) var userEvents: [String] = []
    private(set) var marketMessages = 0
    private(set) var maintenance: [Bool] = []
    var kicked = 0

    func userEvent(userId: String, event: String, payloadJSON: String, streamEntry: String?) { userEvents.append("\(userId) \(event)") }
    func broadcast(_ broadcast: AdminOperations.Broadcast) { broadcasts.append(broadcast.message) }
    func adminEvent(_ event: String, payload: JSONValue) { adminEvents.append(event) }
    func market(_ messages: [FeedMessage]) -> Bool {
        marketMessages += messages.count
        return true
    }
    func maintenance(enabled: Bool, message: String?) { maintenance.append(enabled) }
    func kick(_ target: AdminOperations.KickTarget, on eventLoop: any EventLoop) -> EventLoopFuture<Int> { eventLoop.makeSucceededFuture(kicked) }
    func stats(on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue> {
        eventLoop.makeSucceededFuture(.object(["connections": .object(["/prices": .int(kicked)]), "instances": 1]))
    }
    func occupancy(symbol: String?, on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue> {
        eventLoop.makeSucceededFuture(.object(["symbols": .object([]), "instances": 1]))
    }
}

/// What a user-event hub handed to the sockets: (room, offset-carrying payload) per publish.
final class RecordingPublisher: Publisher, @unchecked Sendable {
    private let lock = NIOLock()
    private var _rooms: [String] = []
    var rooms: [String] { lock.withLock { _rooms } }

    func publish(_ message: OutboundMessage, to rooms: [RoomKey], ordered: Bool) {
        let text = String(buffer: message.header.payload)
        lock.withLock { _rooms += rooms.map { "\($0.name) \(text)" } }
    }
}
