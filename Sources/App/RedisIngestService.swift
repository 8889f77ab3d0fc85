import GatewayJSON
import GatewayCore
import Logging
import MarketFeed
import Namespaces
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge
import ServiceLifecycle

/// What the gateway reads from Redis (SPEC §6): the user-event stream `{prefix}user-events`
/// (XREAD) whenever Redis is configured, and the market feed channel `{prefix}feed`
/// (SUBSCRIBE) when `feed.source` is `redis`. Redis going away and coming back raises an
/// `admin.alert`, flips `gateway_redis_up` and `/health/redis`; links reconnect by themselves.
struct RedisIngestService: Service {
    let address: RedisAddress
    let prefix: String
    let readsFeed: Bool
    let services: GatewayServices
    let market: MarketState
    /// Where stream entries go: this instance's sockets, or the cluster bus.
    let bus: any GatewayBus
    /// Cluster mode: the parts with Redis links of their own (bus, shared rate limits, leases,
    /// user log); theirs run beside these and count in the same Redis status.
    let clusterParts: [any RedisLinkSource]
    let eventLoop: any EventLoop
    let logger: Logger

    func run() async throws {
        let status = RedisStatus()
        let services = services
        let operations = AdminOperations(services: services)
        let address = address
        services.redisHealth.set(.down)
        services.metrics.redisUp.set(Double(0))
        services.metrics.redisConfigured.set(Double(1))
        status.observeOverloads { services.metrics.countRefusal(.redisPending) }
        status.observe { up, initial in
            services.redisHealth.set(up ? .up : .down)
            services.metrics.redisUp.set(Double(up ? 1 : 0))
            // The state found at start-up is logged by the links, not alerted as a change.
            if initial { return }
            if up {
                operations.alert(level: "info", message: "Redis is reachable again at \(address.description)")
            } else {
                operations.alert(level: "critical", message: "Redis lost at \(address.description); reconnecting, local clients are still served")
            }
        }
        // Entries whose eventId is being claimed hold back the ones after them.
        let order = OrderedDelivery()
        var links = [
            RedisLink(
                name: "user-events", address: address, eventLoop: eventLoop, status: status, logger: logger,
                session: RedisSessions.readStream(prefix + "user-events") { [eventLoop] entries in
                    for entry in entries { Self.deliverUserEvent(entry, services: services, bus: bus, order: order, on: eventLoop) }
                }
            )
        ]
        if readsFeed {
            let parser = FeedParser(catalog: services.symbols)
            let market = market
            links.append(RedisLink(
                name: "feed", address: address, eventLoop: eventLoop, status: status, logger: logger,
                session: RedisSessions.subscribe(prefix + "feed") { payload in
                    Self.ingestFeed(payload, parser: parser, market: market, services: services)
                }
            ))
        }
        for part in clusterParts { links += part.links(address: address, eventLoop: eventLoop, status: status) }
        for link in links { link.start() }
        logger.info("Reading Redis", metadata: ["redis.address": "\(address.description)", "redis.prefix": "\(prefix)", "feed.redis": "\(readsFeed)"])
        try? await gracefulShutdown()
        for link in links { link.stop() }
    }

    /// One message on `{prefix}feed`: a feed message object (or an array of them); a bad one is
    /// skipped and counted.
    static func ingestFeed(_ payload: [UInt8], parser: FeedParser, market: MarketState, services: GatewayServices) {
        guard let value = try? JSONParser.parse(payload) else {
            services.metrics.feedRejected(source: "redis", reason: "invalid_json").increment(by: 1)
            BadInputLog.shared.log(services.logger, "Redis feed message skipped", metadata: ["error.type": "invalid_json"])
            return
        }
        let items: [JSONValue]
        if case .array(let list) = value { items = list } else { items = [value] }
        var messages: [FeedMessage] = []
        for item in items {
            do throws(FeedError) {
                messages.append(try parser.parse(item))
            } catch {
                services.metrics.feedRejected(source: "redis", reason: error.reason.rawValue).increment(by: 1)
                BadInputLog.shared.log(services.logger, "Redis feed message skipped", metadata: ["error.type": "\(error.reason.rawValue)"])
            }
        }
        if !messages.isEmpty { market.ingest(messages, source: "redis") }
    }

    /// One `{prefix}user-events` entry: `userId`, `event` (a /user event name), `data` (a JSON
    /// object) and optionally `eventId` (delivered once per user and id: a producer's retried
    /// XADD is dropped). Anything else is skipped and counted. In cluster mode every instance
    /// reads the stream and the first to reach an entry puts it on the bus; the eventId's claim
    /// remembers the entry, so instances reading the same entry are not taken for a retry.
    static func deliverUserEvent(
        _ entry: RedisSessions.StreamEntry, services: GatewayServices, bus: any GatewayBus, order: OrderedDelivery, on eventLoop: any EventLoop
    ) {
        let reject = { (reason: String) in
            services.metrics.feedRejected(source: "redis-user-events", reason: reason).increment(by: 1)
            BadInputLog.shared.log(services.logger, "User event skipped", metadata: ["redis.entry": "\(entry.id)", "error.type": "\(reason)"])
        }
        guard let userId = entry.fields["userId"], !userId.isEmpty else { return reject("missing_user") }
        guard let event = entry.fields["event"], UserEventChannels.eventChannels[event] != nil else { return reject("unknown_event") }
        guard let text = entry.fields["data"], let data = try? JSONParser.parse(text), data.isObject else {
            return reject("invalid_data")
        }
        let payloadJSON = JSONSerializer.serialize(data)
        guard let eventId = entry.fields["eventId"] else {
            return order.run(on: eventLoop) {
                bus.userEvent(userId: userId, event: event, payloadJSON: payloadJSON, streamEntry: entry.id)
                return eventLoop.makeSucceededVoidFuture()
            }
        }
        guard UserEventBatch.isEventId(eventId) else { return reject("invalid_event_id") }
        order.run(on: eventLoop) {
            services.idempotency.claim(
                UserEventBatch.eventKey(userId: userId, eventId: eventId), fingerprint: "stream:" + entry.id, window: services.idempotencyWindow, on: eventLoop
            ).map { claim in
                guard claim != .conflict else { return services.metrics.countIdempotentRepeat(kind: "event") }
                bus.userEvent(userId: userId, event: event, payloadJSON: payloadJSON, streamEntry: entry.id)
            }
        }
    }
}

/// Runs asynchronous steps one after another, in the order they were given (stream entries that
/// wait for a claim keep their order with the ones after them). Steps that find nothing waiting
/// run at once.
final class OrderedDelivery: Sendable {
    private let tail = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)

    func run(on eventLoop: any EventLoop, _ step: @escaping @Sendable () -> EventLoopFuture<Void>) {
        tail.withLockedValue { tail in
            let next = tail.map { $0.flatMap(step) } ?? step()
            // A failed step does not stop the ones after it.
            tail = next.recover { _ in }
        }
    }
}
