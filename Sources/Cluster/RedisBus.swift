import GatewayCore
import GatewayJSON
import GatewayMetrics
import Logging
import MarketFeed
import Namespaces
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// The cluster bus over Redis pub/sub (SPEC §8). Everything accepted here is delivered here at
/// once (through the ``LocalBus``) and PUBLISHed once for the other instances, which deliver it
/// through theirs; an instance skips its own messages. Per publisher the order holds: one
/// connection publishes, and Redis delivers a connection's messages in order.
///
/// Interest: broadcasts go to `{prefix}bus:all`; a user's events go to `{prefix}bus:user:{id}`,
/// which an instance SUBSCRIBEs only while it has a socket of that user (``UserInterest``);
/// HTTP-ingested ticks, trades, tickers and stats go to `{prefix}bus:market:{symbol}`, which an
/// instance SUBSCRIBEs only while it has a subscriber for the symbol (``SymbolInterest``; on
/// subscribing it asks the others for the symbol's latest values). Depth and status messages
/// go to `bus:all`: every instance keeps every book whole, so a new subscriber gets a correct
/// snapshot at once and a book never needs rebuilding across Redis.
///
/// User events are the exception to "delivered here at once": each is added to the user's
/// stream in Redis and published in one script (``ClusterUserLog``), and every instance that
/// follows the user, this one included, delivers it from the bus with its stream id as the
/// offset. So every instance delivers a user's events in one order (the stream's), and a client
/// can recover on any of them.
///
/// Redis down: local delivery goes on; what is accepted meanwhile reaches this instance's
/// sockets only, and is counted as `gateway_bus_messages_total{direction="local_only"}`.
/// When the links are back, the subscriber re-subscribes to what local sockets need.
public final class RedisBus: GatewayBus, RedisLinkSource {
    public let instanceID: String
    private let local: any GatewayBus
    private let channels: BusChannels
    private let interest: UserInterest
    private let userLog: ClusterUserLog
    private let userEvents: UserEventHub
    private let symbolInterest: SymbolInterest
    private let market: MarketState?
    private let parser: FeedParser
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let publisher = NIOLockedValueBox<RedisConnection?>(nil)
    private let subscriber = NIOLockedValueBox<Subscriber?>(nil)
    private let requests = NIOLockedValueBox<[String: PendingRequest]>([:])
    /// How long a request waits for the other instances' answers.
    private let replyTimeout: TimeAmount

    /// A request out to the other instances: their answers so far, and how many to expect once
    /// Redis has said how many instances got it.
    private struct PendingRequest {
        var results: [JSONValue] = []
        var expected: Int?
        let promise: EventLoopPromise<[JSONValue]>
    }

    /// The subscribing connection and the user channels it is subscribed to (its loop only).
    private final class Subscriber: @unchecked Sendable {
        let connection: RedisConnection
        var users: Set<String> = []
        var symbols: Set<String> = []
        init(connection: RedisConnection) { self.connection = connection }
    }

    public init(
        local: any GatewayBus, prefix: String, interest: UserInterest, userLog: ClusterUserLog, userEvents: UserEventHub,
        symbolInterest: SymbolInterest, market: MarketState?, symbols: SymbolCatalog, metrics: GatewayMetrics, logger: Logger,
        instanceID: String = SessionID.make(), replyTimeout: TimeAmount = .seconds(1)
    ) {
        self.symbolInterest = symbolInterest
        self.market = market
        self.userLog = userLog
        self.userEvents = userEvents
        self.instanceID = instanceID
        self.replyTimeout = replyTimeout
        self.local = local
        channels = BusChannels(prefix: prefix)
        self.interest = interest
        parser = FeedParser(catalog: symbols)
        self.metrics = metrics
        self.logger = logger
        interest.observe { [weak self] userId in self?.reconcile(userId) }
        symbolInterest.observe { [weak self] symbol in self?.reconcile(symbol: symbol) }
    }

    // MARK: GatewayBus

    /// A user event, from a producer or from the `{prefix}user-events` entry `streamEntry`
    /// (which every instance reads; the first to add it to the user's stream delivers it).
    /// Redis unreachable: delivered to this instance's sockets only, under a local offset.
    public func userEvent(userId: String, event: String, payloadJSON: String, streamEntry: String?) {
        let localOnly: @Sendable () -> Void = { [local, metrics] in
            metrics.busMessages(direction: "local_only").increment(by: 1)
            local.userEvent(userId: userId, event: event, payloadJSON: payloadJSON, streamEntry: nil)
        }
        let message = BusMessage.userEvent(userId: userId, event: event, payloadJSON: payloadJSON).encoded(origin: instanceID)
        guard let appended = userLog.append(
            userId: userId, channel: UserEventChannels.eventChannels[event] ?? "user", event: event, payloadJSON: payloadJSON,
            busChannel: channels.user(userId), message: message, streamEntry: streamEntry
        ) else { return localOnly() }
        appended.whenComplete { [self] result in
            switch result {
            case .success(.published(let id)):
                metrics.busMessages(direction: "published").increment(by: 1)
                // Every instance, this one too, delivers it from the bus, so each delivers a user's
                // events in the stream's order. With no subscribing connection here right now, it
                // would not come back: delivered here at once instead.
                if subscriber.withLockedValue({ $0 }) == nil {
                    userEvents.publish(userId: userId, event: event, payloadJSON: payloadJSON, offset: StreamOffset.pack(id))
                }
            case .success(.alreadyTaken): break
            case .failure: localOnly()
            }
        }
    }

    public func broadcast(_ broadcast: AdminOperations.Broadcast) {
        local.broadcast(broadcast)
        send(.broadcast(broadcast.json), to: channels.all)
    }

    public func market(_ messages: [FeedMessage]) -> Bool {
        guard local.market(messages) else { return false }
        // One PUBLISH per symbol per batch (order per symbol holds); books and status for all.
        var everyone: [JSONValue] = []
        var bySymbol: [String: [JSONValue]] = [:]
        var symbolOrder: [String] = []
        for message in messages {
            switch message {
            case .depth, .status:
                everyone.append(message.json)
            case .tick, .trade, .ticker, .stats:
                let symbol = message.symbol
                if bySymbol[symbol] == nil { symbolOrder.append(symbol) }
                bySymbol[symbol, default: []].append(message.json)
            }
        }
        if !everyone.isEmpty { send(.market(everyone), to: channels.all) }
        for symbol in symbolOrder { send(.market(bySymbol[symbol]!), to: channels.market(symbol)) }
        return true
    }

    public func maintenance(enabled: Bool, message: String?) {
        local.maintenance(enabled: enabled, message: message)
        send(.maintenance(enabled: enabled, message: message), to: channels.all)
    }

    public func kick(_ target: AdminOperations.KickTarget, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        var command: [JSONMember] = [JSONMember("command", "kick")]
        if case .object(let members) = target.json { command += members }
        let here = local.kick(target, on: eventLoop)
        let elsewhere = request(.object(command), on: eventLoop)
        return here.and(elsewhere).map { count, answers in
            count + answers.compactMap(\.intValue).reduce(0, +)
        }
    }

    public func stats(on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue> {
        let here = local.stats(on: eventLoop)
        let elsewhere = request(.object(["command": "stats"]), on: eventLoop)
        return here.and(elsewhere).map { own, answers in
            // Each answer is an instance's own stats (instances: 1): add them up.
            AdminStats.merge([own] + answers)
        }
    }

    /// Asks every other instance; the future holds the answers that came within
    /// `replyTimeout` (none while Redis is unreachable).
    private func request(_ command: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<[JSONValue]> {
        guard let connection = publisher.withLockedValue({ $0 }) else { return eventLoop.makeSucceededFuture([]) }
        let id = SessionID.make()
        let promise = eventLoop.makePromise(of: [JSONValue].self)
        requests.withLockedValue { $0[id] = PendingRequest(promise: promise) }
        eventLoop.scheduleTask(in: replyTimeout) { [self] in finish(id) }
        let text = BusMessage.request(id: id, replyTo: channels.instance(instanceID), command: command).encoded(origin: instanceID)
        connection.eventLoop.execute { [self] in
            connection.send(["PUBLISH", channels.all, text]).whenComplete { [self] result in
                // PUBLISH answers how many subscribers got it: every instance, this one included.
                guard case .success(.integer(let listeners)) = result else { return finish(id) }
                let done = requests.withLockedValue { requests -> Bool in
                    requests[id]?.expected = Int(listeners) - 1
                    return requests[id].map { $0.results.count >= Int(listeners) - 1 } ?? false
                }
                if done { finish(id) }
            }
        }
        return promise.futureResult
    }

    private func answered(_ id: String, with result: JSONValue) {
        let done = requests.withLockedValue { requests -> Bool in
            guard var pending = requests[id] else { return false }
            pending.results.append(result)
            requests[id] = pending
            return pending.expected.map { pending.results.count >= $0 } ?? false
        }
        if done { finish(id) }
    }

    private func finish(_ id: String) {
        guard let pending = requests.withLockedValue({ $0.removeValue(forKey: id) }) else { return }
        pending.promise.succeed(pending.results)
    }

    /// Another instance's request: answered from this instance's own state.
    private func answer(_ id: String, replyTo: String, command: JSONValue, on eventLoop: any EventLoop) {
        let result: EventLoopFuture<JSONValue>
        switch command["command"]?.stringValue {
        case "kick":
            guard let target = AdminOperations.KickTarget(command) else { return }
            result = local.kick(target, on: eventLoop).map { .int($0) }
        case "latest":
            guard let symbol = command["symbol"]?.stringValue, let market else { return }
            result = eventLoop.makeSucceededFuture(market.latestValues(of: symbol))
        case "stats":
            result = local.stats(on: eventLoop).map { stats in
                // The local bus reports itself as one instance; the asker counts instances.
                guard case .object(let members) = stats else { return stats }
                return .object(members.filter { $0.key != "instances" })
            }
        default:
            return
        }
        result.whenSuccess { [self] value in send(.reply(id: id, result: value), to: replyTo) }
    }

    // MARK: Redis

    /// The two connections the bus keeps: one PUBLISHes, one SUBSCRIBEs. Started and stopped
    /// with the gateway's other Redis links, and counted in its Redis status.
    public func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink] {
        [
            RedisLink(name: "bus-publish", address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] connection in
                publisher.withLockedValue { $0 = connection }
                return connection.closeFuture.map { [self] in
                    publisher.withLockedValue { if $0 === connection { $0 = nil } }
                }
            },
            RedisLink(name: "bus-subscribe", address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] connection in
                let state = Subscriber(connection: connection)
                let loop = connection.eventLoop  // not the connection: its handler must not keep it alive
                return connection.subscribe(channels.all) { [self] _, payload in received(payload, on: loop) }.flatMap { [self] in
                    connection.send(["SUBSCRIBE", channels.instance(instanceID)]).map { _ in }
                }.flatMap { [self] in
                    // From here on interest changes reach this connection; then catch up with
                    // every user who has a socket here now.
                    subscriber.withLockedValue { $0 = state }
                    for userId in interest.presentUsers { update(userId, on: state) }
                    for symbol in symbolInterest.wanted { update(symbol: symbol, on: state) }
                    return connection.closeFuture
                }.always { [self] _ in
                    subscriber.withLockedValue { if $0 === state { $0 = nil } }
                }
            },
        ]
    }

    private func send(_ message: BusMessage, to channel: String) {
        guard let connection = publisher.withLockedValue({ $0 }) else {
            metrics.busMessages(direction: "local_only").increment(by: 1)
            return
        }
        let text = message.encoded(origin: instanceID)
        connection.eventLoop.execute { [metrics] in
            connection.send(["PUBLISH", channel, text]).whenComplete { result in
                switch result {
                case .success: metrics.busMessages(direction: "published").increment(by: 1)
                case .failure: metrics.busMessages(direction: "local_only").increment(by: 1)
                }
            }
        }
    }

    private func received(_ payload: [UInt8], on eventLoop: any EventLoop) {
        guard let (origin, message) = BusMessage.decode(payload) else {
            BadInputLog.shared.log(logger, "Unreadable cluster bus message skipped")
            return
        }
        switch message {
        case .marker(let token):
            return userLog.markerArrived(token)
        case .userEvent(let userId, let event, let payloadJSON, let offset?):
            // From the user's stream: delivered by every instance that follows the user, this
            // one included, under the stream's id (the same offset everywhere).
            if origin != instanceID { metrics.busMessages(direction: "received").increment(by: 1) }
            return userEvents.publish(userId: userId, event: event, payloadJSON: payloadJSON, offset: StreamOffset.pack(offset))
        default:
            break
        }
        guard origin != instanceID else { return }
        metrics.busMessages(direction: "received").increment(by: 1)
        switch message {
        case .userEvent(let userId, let event, let payloadJSON, _):
            local.userEvent(userId: userId, event: event, payloadJSON: payloadJSON, streamEntry: nil)
        case .broadcast(let body):
            if case .success(let broadcast) = AdminOperations.Broadcast.parse(body) { local.broadcast(broadcast) }
        case .market(let items):
            var messages: [FeedMessage] = []
            for item in items {
                do throws(FeedError) {
                    messages.append(try parser.parse(item))
                } catch {
                    // This instance does not take what another one did (its symbol list differs).
                    metrics.feedRejected(source: "bus", reason: error.reason.rawValue).increment(by: 1)
                }
            }
            // Refused here when this instance's feed loop is behind: counted and logged there
            // (gateway_feed_rejected_total{reason="overloaded"}).
            if !messages.isEmpty { _ = local.market(messages) }
        case .maintenance(let enabled, let message):
            local.maintenance(enabled: enabled, message: message)
        case .request(let id, let replyTo, let command):
            answer(id, replyTo: replyTo, command: command, on: eventLoop)
        case .reply(let id, let result):
            answered(id, with: result)
        case .marker:
            break  // handled above, whatever its origin
        }
    }

    /// A user became present here or absent: subscribe or unsubscribe their channel, on the
    /// subscriber's loop, from the current state (notices may arrive out of order). The future
    /// completes when Redis confirmed (nil while no subscriber is connected: it catches up
    /// when it connects).
    private func reconcile(_ userId: String) -> EventLoopFuture<Void>? {
        guard let state = subscriber.withLockedValue({ $0 }) else { return nil }
        return state.connection.eventLoop.flatSubmit { [self] in update(userId, on: state) }
    }

    @discardableResult
    private func update(_ userId: String, on state: Subscriber) -> EventLoopFuture<Void> {
        state.connection.eventLoop.preconditionInEventLoop()
        let wanted = interest.isPresent(userId)
        guard wanted != state.users.contains(userId) else { return state.connection.eventLoop.makeSucceededVoidFuture() }
        if wanted {
            state.users.insert(userId)
            return state.connection.send(["SUBSCRIBE", channels.user(userId)]).map { _ in }
        } else {
            state.users.remove(userId)
            return state.connection.send(["UNSUBSCRIBE", channels.user(userId)]).map { _ in }
        }
    }

    /// A symbol became wanted here or not: follow its market channel or stop, from the current
    /// state. Once following, ask the other instances for its latest values.
    private func reconcile(symbol: String) {
        guard let state = subscriber.withLockedValue({ $0 }) else { return }
        state.connection.eventLoop.execute { [self] in update(symbol: symbol, on: state) }
    }

    private func update(symbol: String, on state: Subscriber) {
        state.connection.eventLoop.preconditionInEventLoop()
        let wanted = symbolInterest.isWanted(symbol)
        guard wanted != state.symbols.contains(symbol) else { return }
        if wanted {
            state.symbols.insert(symbol)
            let loop = state.connection.eventLoop
            state.connection.send(["SUBSCRIBE", channels.market(symbol)]).whenSuccess { [self] _ in
                request(.object(["command": "latest", "symbol": .string(symbol)]), on: loop).whenSuccess { [market] answers in
                    for answer in answers { market?.adoptLatestValues(answer, symbol: symbol) }
                }
            }
        } else {
            // Not at once: a subscriber that switches a depth cadence leaves and joins again in
            // one go, and a channel dropped in between would lose ticks. A second later, if still
            // unwanted, the channel goes, and with it the latest values (they would go stale).
            state.connection.eventLoop.scheduleTask(in: symbolLinger) { [self] in
                guard !symbolInterest.isWanted(symbol), state.symbols.remove(symbol) != nil else { return }
                _ = state.connection.send(["UNSUBSCRIBE", channels.market(symbol)])
                market?.forgetLatestValues(of: symbol)
            }
        }
    }

    /// How long a symbol's channel outlives its last subscriber here.
    private var symbolLinger: TimeAmount { .seconds(1) }
}
