import GatewayJSON
import NIOCore

/// A channel between the instances of a cluster, named by the feature that uses it (`all`,
/// `user:alice`, `market:BTC/USDT`); a broker maps names onto its own (with its prefix).
public struct BrokerChannel: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}

/// One message a broker delivers: the feature's body (a JSON object), where it came from.
public struct BrokerMessage: Sendable {
    public let channel: BrokerChannel
    public let body: JSONValue
    /// Published by this instance (features that deliver locally at once skip these).
    public let isOwn: Bool

    public init(channel: BrokerChannel, body: JSONValue, isOwn: Bool) {
        self.channel = channel
        self.body = body
        self.isOwn = isOwn
    }
}

/// Messages between the instances of a cluster (centrifuge's broker): publish on a channel,
/// follow channels, ask every other instance and gather their answers. What a body means is the
/// business of the feature that sends it; a broker only carries JSON objects, in each
/// publisher's order per channel. The Cluster target's `RedisBroker` is the one implementation;
/// tests use an in-memory one.
public protocol Broker: Sendable {
    /// Sends `body` to every instance following `channel` (this one too, if it follows it). The
    /// future completes when the broker took it, or fails when it could not; nil when the broker
    /// is not connected (nothing left this instance).
    @discardableResult
    func publish(_ body: JSONValue, on channel: BrokerChannel) -> EventLoopFuture<Void>?
    /// Follows `channel` from now on, and again after every reconnect. The future completes once
    /// messages published from then on arrive here; nil while not connected (following resumes
    /// with the connection).
    func follow(_ channel: BrokerChannel) -> EventLoopFuture<Void>?
    func unfollow(_ channel: BrokerChannel)
    /// Asks every other instance; the future holds the answers that came within the broker's
    /// reply deadline (none while not connected).
    func request(_ body: JSONValue, on eventLoop: any EventLoop) -> EventLoopFuture<[JSONValue]>
    /// Where messages and other instances' requests go, and who hears that the broker
    /// (re)connected and follows its channels again (to catch up on what it missed meanwhile);
    /// set once, before the broker starts.
    func start(
        onMessage: @escaping @Sendable (BrokerMessage) -> Void,
        onRequest: @escaping @Sendable (JSONValue, any EventLoop) -> EventLoopFuture<JSONValue>?,
        onConnected: @escaping @Sendable () -> Void
    )
    var isConnected: Bool { get }
}
