import GatewayJSON
import MarketFeed
import NIOCore

/// What one instance accepts and every instance must deliver (SPEC §8): `/user` events and
/// market messages that came in over HTTP, and system broadcasts (admin event or HTTP). The
/// ``LocalBus`` delivers them on this instance; a cluster bus (the `Cluster` target) also
/// sends each one over Redis to the other instances, which deliver it through their own
/// ``LocalBus``. What producers put on Redis themselves (the feed channel, the user-event
/// stream) is read by every instance directly and never crosses the bus.
public protocol GatewayBus: Sendable {
    /// A `/user` event for `userId` (its `data` as JSON text). `streamEntry`: the id of the
    /// `{prefix}user-events` entry it was read from, which every instance reads (a cluster bus
    /// lets the first instance to reach it deliver it; nil for producers' HTTP calls).
    func userEvent(userId: String, event: String, payloadJSON: String, streamEntry: String?)
    /// A `system.broadcast` to the chosen namespaces.
    func broadcast(_ broadcast: AdminOperations.Broadcast)
    /// An event for every `/admin` socket of the cluster (`market.occupancy`).
    func adminEvent(_ event: String, payload: JSONValue)
    /// Validated market messages; false when this instance refused them (its feed loop is
    /// behind) and nothing was applied.
    func market(_ messages: [FeedMessage]) -> Bool
    /// Maintenance mode on or off, with the notice sockets get.
    func maintenance(enabled: Bool, message: String?)
    /// Closes a user's or a socket's connections; the future holds how many were closed.
    func kick(_ target: AdminOperations.KickTarget, on eventLoop: any EventLoop) -> EventLoopFuture<Int>
    /// The admin stats of every instance added up, with `instances`: how many answered.
    func stats(on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue>
    /// Subscribers per symbol and channel (the most watched, or `symbol` only) of every instance
    /// added up: `{"symbols":{…},"instances":N}`.
    func occupancy(symbol: String?, on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue>
}

/// The bus of a single instance: everything is delivered here and nowhere else.
public struct LocalBus: GatewayBus {
    let services: GatewayServices
    let market: MarketState?

    public init(services: GatewayServices, market: MarketState?) {
        self.services = services
        self.market = market
    }

    public func userEvent(userId: String, event: String, payloadJSON: String, streamEntry: String?) {
        services.userEvents.publish(userId: userId, event: event, payloadJSON: payloadJSON)
    }

    public func broadcast(_ broadcast: AdminOperations.Broadcast) {
        AdminOperations(services: services).broadcast(broadcast)
    }

    public func adminEvent(_ event: String, payload: JSONValue) {
        services.publisher.emit(to: .admins, event: event, arguments: [payload])
    }

    public func market(_ messages: [FeedMessage]) -> Bool {
        market?.ingest(messages, source: "http") ?? false
    }

    public func maintenance(enabled: Bool, message: String?) {
        AdminOperations(services: services).setMaintenance(enabled: enabled, message: message)
    }

    public func kick(_ target: AdminOperations.KickTarget, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        AdminOperations(services: services).kick(target, on: eventLoop)
    }

    public func stats(on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue> {
        eventLoop.makeSucceededFuture(AdminStats.merge([AdminOperations(services: services).stats()]))
    }

    public func occupancy(symbol: String?, on eventLoop: any EventLoop) -> EventLoopFuture<JSONValue> {
        eventLoop.makeSucceededFuture(AdminStats.merge([AdminOperations(services: services).occupancy(symbol: symbol)]))
    }
}
