import GatewayCore
import GatewayJSON
import GatewayMetrics
import Logging
import MarketFeed
import NIOConcurrencyHelpers
import NIOCore

/// The cluster bus (SPEC §8) on any ``Broker`` and ``HistoryStore``. Everything accepted here
/// is delivered here at once (through the ``LocalBus``) and published once for the other
/// instances, which deliver it through theirs; an instance skips its own messages.
///
/// Interest: broadcasts, maintenance, depth and status messages go to `all`; a user's events go
/// to `user:{id}`, which this instance follows only while it has a socket or a kept session of
/// that user (``UserInterest``); HTTP-ingested ticks, trades, tickers and stats go to
/// `market:{symbol}`, followed only while the symbol has a subscriber here (``SymbolInterest``;
/// on following, the other instances are asked for the symbol's latest values).
///
/// User events are the exception to "delivered here at once": each is appended to the user's
/// stream and published in one step by the history store, and every instance that follows the
/// user, this one included, delivers it from the broker under the stream's offset. So every
/// instance delivers a user's events in one order, and a client can recover on any of them.
///
/// Broker down: local delivery goes on; what is accepted meanwhile reaches this instance's
/// sockets only, counted as `gateway_bus_messages_total{direction="local_only"}`.
public final class ClusterBus: GatewayBus {
    private let local: any GatewayBus
    private let broker: any Broker
    private let history: any HistoryStore
    private let interest: UserInterest
    private let userEvents: UserEventHub
    private let symbolInterest: SymbolInterest
    private let market: MarketState?
    private let parser: FeedParser
    private let metrics: GatewayMetrics
    private let logger: Logger
    /// Where symbol channels linger before they are dropped.
    private let eventLoop: any EventLoop
    /// Decisions to follow or drop a channel are made and handed to the broker under this lock,
    /// so the broker gets them in the order the interest changed.
    private let following = NIOLockedValueBox(Following())
    private struct Following {
        var users: Set<String> = []
        var symbols: Set<String> = []
    }
    /// How long a symbol's channel outlives its last subscriber here.
    private let symbolLinger: TimeAmount

    public init(
        local: any GatewayBus, broker: any Broker, history: any HistoryStore, interest: UserInterest, userEvents: UserEventHub,
        symbolInterest: SymbolInterest, market: MarketState?, symbols: SymbolCatalog, metrics: GatewayMetrics, logger: Logger,
        eventLoop: any EventLoop, symbolLinger: TimeAmount = .seconds(1)
    ) {
        self.local = local
        self.broker = broker
        self.history = history
        self.interest = interest
        self.userEvents = userEvents
        self.symbolInterest = symbolInterest
        self.market = market
        parser = FeedParser(catalog: symbols)
        self.metrics = metrics
        self.logger = logger
        self.eventLoop = eventLoop
        self.symbolLinger = symbolLinger
    }

    /// Hands the broker its handlers and starts following: `all` always, users and symbols as
    /// interest comes and goes.
    public func start() {
        broker.start(
            onMessage: { [weak self] message in self?.received(message) },
            onRequest: { [weak self] command, loop in self?.answer(command, on: loop) },
            onConnected: { [weak self] in self?.caughtUp() }
        )
        _ = broker.follow(ClusterChannels.all)
        interest.observe { [weak self] userId in self?.reconcile(userId) }
        symbolInterest.observe { [weak self] symbol in self?.reconcile(symbol: symbol) }
    }

    // MARK: GatewayBus

    /// A user event, from a producer or from the `{prefix}user-events` entry `streamEntry`
    /// (which every instance reads; the first to append it delivers it). Store unreachable:
    /// delivered to this instance's sockets only, under a local offset.
    public func userEvent(userId: String, event: String, payloadJSON: String, streamEntry: String?) {
        let localOnly: @Sendable () -> Void = { [local, metrics] in
            metrics.busMessages(direction: "local_only").increment(by: 1)
            local.userEvent(userId: userId, event: event, payloadJSON: payloadJSON, streamEntry: nil)
        }
        let body = ClusterMessage.userEvent(userId: userId, event: event, payloadJSON: payloadJSON).body
        let entry = (channel: UserEventChannels.eventChannels[event] ?? "user", event: event, payloadJSON: payloadJSON)
        guard let appended = history.append(entry, of: userId, publishing: body, on: ClusterChannels.user(userId), sourceEntry: streamEntry) else {
            return localOnly()
        }
        appended.whenComplete { [self] result in
            switch result {
            case .success(.published(let offset)):
                metrics.busMessages(direction: "published").increment(by: 1)
                // Every instance, this one too, delivers it from the broker, so each delivers a
                // user's events in the stream's order. With the broker not connected here right
                // now it would not come back: delivered here at once instead.
                if !broker.isConnected {
                    userEvents.publish(userId: userId, event: event, payloadJSON: payloadJSON, offset: offset)
                }
            case .success(.alreadyTaken): break
            case .failure: localOnly()
            }
        }
    }

    public func broadcast(_ broadcast: AdminOperations.Broadcast) {
        local.broadcast(broadcast)
        publish(.broadcast(broadcast.json), on: ClusterChannels.all)
    }

    public func adminEvent(_ event: String, payload: JSONValue) {
        local.adminEvent(event, payload: payload)
        publish(.adminEvent(event: event, payload: payload), on: ClusterChannels.all)
    }

    public func market(_ messages: [FeedMessage]) -> Bool {
        guard local.market(messages) else { return false }
        // One publish per symbol per batch (order per symbol holds); books and status for all.
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
        if !everyone.isEmpty { publish(.market(everyone), on: ClusterChannels.all) }
        for symbol in symbolOrder { publish(.market(bySymbol[symbol]!), on: ClusterChannels.market(symbol)) }
        return true
    }

    public func maintenance(enabled: Bool, message: String?) {
        local.maintenance(enabled: enabled, message: message)
        publish(.maintenance(enabled: enabled, message: message), on: ClusterChannels.all)
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

    public func occupancy(symbol: String?, on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue> {
        let here = local.occupancy(symbol: symbol, on: eventLoop)
        let elsewhere = request(.object(["command": "occupancy", "symbol": symbol.map(JSONValue.string) ?? .null]), on: eventLoop)
        return here.and(elsewhere).map { own, answers in AdminStats.merge([own] + answers) }
    }

    /// Counted when the broker took it (`published`), or could not (`local_only`).
    private func publish(_ message: ClusterMessage, on channel: BrokerChannel) {
        guard let sent = broker.publish(message.body, on: channel) else {
            return metrics.busMessages(direction: "local_only").increment(by: 1)
        }
        sent.whenComplete { [metrics] result in
            metrics.busMessages(direction: (try? result.get()) != nil ? "published" : "local_only").increment(by: 1)
        }
    }

    /// Asks every other instance; their answers count as received.
    private func request(_ command: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<[JSONValue]> {
        broker.request(command, on: eventLoop).map { [metrics] answers in
            if !answers.isEmpty { metrics.busMessages(direction: "received").increment(by: Int64(answers.count)) }
            return answers
        }
    }

    // MARK: Another instance's requests

    /// Answered from this instance's own state (the request and the answer are counted as a
    /// message received and one published).
    private func answer(_ command: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue>? {
        metrics.busMessages(direction: "received").increment(by: 1)
        let answer = answerFromHere(command, on: eventLoop)
        answer?.whenSuccess { [metrics] _ in metrics.busMessages(direction: "published").increment(by: 1) }
        return answer
    }

    private func answerFromHere(_ command: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue>? {
        switch command["command"]?.stringValue {
        case "kick":
            guard let target = AdminOperations.KickTarget(command) else { return nil }
            return local.kick(target, on: eventLoop).map { .int($0) }
        case "latest":
            guard let symbol = command["symbol"]?.stringValue, let market else { return nil }
            return eventLoop.makeSucceededFuture(market.latestValues(of: symbol))
        case "stats":
            return local.stats(on: eventLoop).map(Self.withoutInstances)
        case "occupancy":
            return local.occupancy(symbol: command["symbol"]?.stringValue, on: eventLoop).map(Self.withoutInstances)
        default:
            return nil
        }
    }

    /// The local bus reports itself as one instance; the asker counts instances.
    private static func withoutInstances(_ answer: JSONValue) -> JSONValue {
        guard case .object(let members) = answer else { return answer }
        return .object(members.filter { $0.key != "instances" })
    }

    // MARK: Messages from the broker

    private func received(_ delivered: BrokerMessage) {
        guard let message = ClusterMessage(delivered.body) else {
            BadInputLog.shared.log(logger, "Unreadable cluster bus message skipped")
            return
        }
        if case .userEvent(let userId, let event, let payloadJSON) = message, let offset = history.offset(in: delivered.body) {
            // From the user's stream: delivered by every instance that follows the user, this
            // one included, under the stream's offset (the same everywhere).
            if !delivered.isOwn { metrics.busMessages(direction: "received").increment(by: 1) }
            return userEvents.publish(userId: userId, event: event, payloadJSON: payloadJSON, offset: offset)
        }
        guard !delivered.isOwn else { return }
        metrics.busMessages(direction: "received").increment(by: 1)
        switch message {
        case .userEvent(let userId, let event, let payloadJSON):
            local.userEvent(userId: userId, event: event, payloadJSON: payloadJSON, streamEntry: nil)
        case .broadcast(let body):
            if case .success(let broadcast) = AdminOperations.Broadcast.parse(body) { local.broadcast(broadcast) }
        case .adminEvent(let event, let payload):
            local.adminEvent(event, payload: payload)
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
            // Refused here when this instance's feed loop is behind: counted and logged there.
            if !messages.isEmpty { _ = local.market(messages) }
        case .maintenance(let enabled, let message):
            local.maintenance(enabled: enabled, message: message)
        }
    }

    // MARK: Interest

    /// A user became present here or absent: follow their channel or drop it, from the current
    /// state (notices may arrive out of order). The future completes once the broker follows it.
    private func reconcile(_ userId: String) -> EventLoopFuture<Void>? {
        let channel = ClusterChannels.user(userId)
        return following.withLockedValue { following -> EventLoopFuture<Void>? in
            if interest.isPresent(userId) {
                following.users.insert(userId)
                return broker.follow(channel)
            }
            following.users.remove(userId)
            broker.unfollow(channel)
            return nil
        }
    }

    /// The broker (re)connected and follows its channels again: the symbols followed here ask
    /// the other instances for their latest values (what changed meanwhile was not heard).
    private func caughtUp() {
        for symbol in following.withLockedValue({ $0.symbols }) { askLatest(symbol) }
    }

    private func askLatest(_ symbol: String) {
        request(.object(["command": "latest", "symbol": .string(symbol)]), on: eventLoop).whenSuccess { [market] answers in
            for answer in answers { market?.adoptLatestValues(answer, symbol: symbol) }
        }
    }

    /// A symbol became wanted here or not: follow its market channel (then ask the others for
    /// its latest values) or, a moment later if still unwanted, drop it.
    private func reconcile(symbol: String) {
        let channel = ClusterChannels.market(symbol)
        // nil: nothing new; .some(nil): followed from the broker's next connection on (it asks
        // for the latest values then, through `caughtUp`).
        let followed = following.withLockedValue { following -> EventLoopFuture<Void>?? in
            guard symbolInterest.isWanted(symbol), following.symbols.insert(symbol).inserted else { return nil }
            return .some(broker.follow(channel))
        }
        if let followed {
            followed?.whenSuccess { [self] in askLatest(symbol) }
            return
        }
        guard !symbolInterest.isWanted(symbol) else { return }
        // Not at once: a subscriber that switches a depth cadence leaves and joins again in one
        // go, and a channel dropped in between would lose ticks. A moment later, if still
        // unwanted, the channel goes, and with it the latest values (they would go stale).
        eventLoop.scheduleTask(in: symbolLinger) { [self] in
            let dropped = following.withLockedValue { following -> Bool in
                guard !symbolInterest.isWanted(symbol), following.symbols.remove(symbol) != nil else { return false }
                broker.unfollow(channel)
                return true
            }
            if dropped { market?.forgetLatestValues(of: symbol) }
        }
    }
}
