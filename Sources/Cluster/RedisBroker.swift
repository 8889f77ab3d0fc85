import GatewayCore
import GatewayJSON
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// The ``Broker`` on Redis pub/sub (SPEC §8): one connection PUBLISHes, one SUBSCRIBEs. A
/// channel `name` is `{prefix}bus:{name}`; requests go to `{prefix}bus:all` (every instance
/// follows it) and replies to `{prefix}bus:instance:{id}`. Per publisher the order holds: one
/// connection publishes, and Redis delivers a connection's messages in order. The channels
/// followed are kept here and subscribed again after every reconnect.
public final class RedisBroker: Broker, RedisLinkSource {
    public let instanceID: String
    private let prefix: String
    private let logger: Logger
    /// How long a request waits for the other instances' answers.
    private let replyTimeout: TimeAmount
    private let publisher = NIOLockedValueBox<RedisConnection?>(nil)
    private let subscriber = NIOLockedValueBox<Subscriber?>(nil)
    /// What the features asked to follow, by Redis channel name (so a message's channel is
    /// looked up, never parsed).
    private let wanted = NIOLockedValueBox<[String: BrokerChannel]>([:])
    private let requests = NIOLockedValueBox<[String: PendingRequest]>([:])
    private let markers = NIOLockedValueBox<[String: EventLoopPromise<Void>]>([:])
    private let handlers = NIOLockedValueBox<Handlers?>(nil)

    private struct Handlers {
        let onMessage: @Sendable (BrokerMessage) -> Void
        let onRequest: @Sendable (JSONValue, any EventLoop) -> EventLoopFuture<JSONValue>?
        let onConnected: @Sendable () -> Void
    }

    /// A request out to the other instances: their answers so far, and how many to expect once
    /// Redis has said how many instances got it.
    private struct PendingRequest {
        var results: [JSONValue] = []
        var expected: Int?
        let promise: EventLoopPromise<[JSONValue]>
    }

    /// The subscribing connection and the channels it is subscribed to, by Redis name (its
    /// loop only): a message is delivered for whatever channel it came on, until UNSUBSCRIBE.
    private final class Subscriber: @unchecked Sendable {
        let connection: RedisConnection
        var channels: [String: BrokerChannel] = [:]
        init(connection: RedisConnection) { self.connection = connection }
    }

    public init(prefix: String, logger: Logger, instanceID: String = SessionID.make(), replyTimeout: TimeAmount = .seconds(1)) {
        self.prefix = prefix
        self.logger = logger
        self.instanceID = instanceID
        self.replyTimeout = replyTimeout
    }

    /// A channel's name in Redis.
    func redisName(_ channel: BrokerChannel) -> String { prefix + "bus:" + channel.name }
    private var requestChannel: String { prefix + "bus:all" }
    private var replyChannel: String { prefix + "bus:instance:" + instanceID }

    /// The text the user-log script publishes for `body` (see ``BrokerEnvelope``).
    func envelope(_ body: JSONValue) -> String { BrokerEnvelope.message(body).encoded(origin: instanceID) }

    // MARK: Broker

    public var isConnected: Bool { subscriber.withLockedValue { $0 } != nil }

    public func start(
        onMessage: @escaping @Sendable (BrokerMessage) -> Void,
        onRequest: @escaping @Sendable (JSONValue, any EventLoop) -> EventLoopFuture<JSONValue>?,
        onConnected: @escaping @Sendable () -> Void
    ) {
        handlers.withLockedValue { $0 = Handlers(onMessage: onMessage, onRequest: onRequest, onConnected: onConnected) }
    }

    @discardableResult
    public func publish(_ body: JSONValue, on channel: BrokerChannel) -> EventLoopFuture<Void>? {
        send(envelope(body), to: redisName(channel))
    }

    public func follow(_ channel: BrokerChannel) -> EventLoopFuture<Void>? {
        let name = redisName(channel)
        wanted.withLockedValue { $0[name] = channel }
        guard let state = subscriber.withLockedValue({ $0 }) else { return nil }
        return state.connection.eventLoop.flatSubmit { [self] in update(name, on: state) }
    }

    public func unfollow(_ channel: BrokerChannel) {
        let name = redisName(channel)
        wanted.withLockedValue { _ = $0.removeValue(forKey: name) }
        guard let state = subscriber.withLockedValue({ $0 }) else { return }
        state.connection.eventLoop.execute { [self] in _ = update(name, on: state) }
    }

    /// Subscribes or unsubscribes `name` to match what is wanted now (calls may come in any
    /// order from any thread: the current wish decides). On the subscriber's loop.
    private func update(_ name: String, on state: Subscriber) -> EventLoopFuture<Void> {
        state.connection.eventLoop.preconditionInEventLoop()
        let channel = wanted.withLockedValue { $0[name] }
        let isSubscribed = state.channels[name] != nil
        if name == requestChannel || (channel != nil) == isSubscribed {
            if let channel { state.channels[name] = channel }
            return state.connection.eventLoop.makeSucceededVoidFuture()
        }
        if let channel {
            state.channels[name] = channel
            return state.connection.send(["SUBSCRIBE", name]).map { _ in }
        }
        state.channels[name] = nil
        return state.connection.send(["UNSUBSCRIBE", name]).map { _ in }
    }

    public func request(_ body: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<[JSONValue]> {
        guard let connection = publisher.withLockedValue({ $0 }) else { return eventLoop.makeSucceededFuture([]) }
        let id = SessionID.make()
        let promise = eventLoop.makePromise(of: [JSONValue].self)
        requests.withLockedValue { $0[id] = PendingRequest(promise: promise) }
        eventLoop.scheduleTask(in: replyTimeout) { [self] in finish(id) }
        let text = BrokerEnvelope.request(id: id, replyTo: replyChannel, body: body).encoded(origin: instanceID)
        let requestChannel = requestChannel
        connection.eventLoop.execute { [self] in
            connection.send(["PUBLISH", requestChannel, text]).whenComplete { [self] result in
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

    // MARK: Markers (RedisHistory)

    /// The marker text a recovery script publishes, and a future that completes when it comes
    /// back on a followed channel (or fails after `timeout`).
    func expectMarker(timeout: TimeAmount, on eventLoop: any EventLoop) -> (text: String, arrived: EventLoopFuture<Void>) {
        let token = SessionID.make()
        let promise = eventLoop.makePromise(of: Void.self)
        markers.withLockedValue { $0[token] = promise }
        eventLoop.scheduleTask(in: timeout) { [self] in
            markers.withLockedValue { $0.removeValue(forKey: token) }?.fail(RedisError(.connection, "the recovery marker did not come back"))
        }
        return (BrokerEnvelope.marker(token).encoded(origin: ""), promise.futureResult)
    }

    // MARK: Redis

    /// The two connections: one PUBLISHes, one SUBSCRIBEs. Started and stopped with the
    /// gateway's other Redis links, and counted in its Redis status.
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
                let requestChannel = requestChannel
                return connection.subscribe(requestChannel) { [self] name, payload in received(payload, on: name, state: state, loop: loop) }.flatMap { [self] in
                    // The request channel is the features' `all` as well.
                    state.channels[requestChannel] = BrokerChannel("all")
                    return connection.send(["SUBSCRIBE", replyChannel]).map { _ in }
                }.flatMap { [self] in
                    // From here on follow/unfollow reach this connection; then catch up with
                    // every channel wanted now, and tell the features.
                    subscriber.withLockedValue { $0 = state }
                    let caughtUp = wanted.withLockedValue({ Array($0.keys) }).map { update($0, on: state) }
                    EventLoopFuture.andAllComplete(caughtUp, on: loop).whenComplete { [self] _ in
                        handlers.withLockedValue { $0 }?.onConnected()
                    }
                    return connection.closeFuture
                }.always { [self] _ in
                    subscriber.withLockedValue { if $0 === state { $0 = nil } }
                }
            },
        ]
    }

    /// nil when no publishing connection is up.
    @discardableResult
    private func send(_ text: String, to channel: String) -> EventLoopFuture<Void>? {
        guard let connection = publisher.withLockedValue({ $0 }) else { return nil }
        return connection.eventLoop.flatSubmit { connection.send(["PUBLISH", channel, text]).map { _ in } }
    }

    /// On the subscriber's loop.
    private func received(_ payload: [UInt8], on name: String, state: Subscriber, loop: any EventLoop) {
        guard let (origin, envelope) = BrokerEnvelope.decode(payload) else {
            BadInputLog.shared.log(logger, "Unreadable cluster bus message skipped")
            return
        }
        switch envelope {
        case .marker(let token):
            markers.withLockedValue { $0.removeValue(forKey: token) }?.succeed()
        case .message(let body):
            guard let channel = state.channels[name], let handlers = handlers.withLockedValue({ $0 }) else { return }
            handlers.onMessage(BrokerMessage(channel: channel, body: body, isOwn: origin == instanceID))
        case .request(let id, let replyTo, let body):
            guard origin != instanceID, let handlers = handlers.withLockedValue({ $0 }) else { return }
            handlers.onRequest(body, loop)?.whenSuccess { [self] result in
                send(BrokerEnvelope.reply(id: id, body: result).encoded(origin: instanceID), to: replyTo)
            }
        case .reply(let id, let body):
            answered(id, with: body)
        }
    }
}
