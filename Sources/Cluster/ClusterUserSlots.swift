import GatewayCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// `limits.maxConnectionsPerUser` across every instance (SPEC §2, §8). Each `/user` socket holds
/// a lease in the user's sorted set `{prefix}conn:{id}` (member: instance and lease number,
/// score: when it expires, on Redis's clock). Taking a slot drops expired leases and adds one
/// if fewer than the cap remain, in one script; this instance refreshes its leases every third
/// of their lifetime, so the leases of an instance that crashed expire by themselves. Redis
/// unreachable: the cap holds per instance (local counts), and the leases are put back when
/// it returns.
///
/// The local counts are a ``LocalPresence`` (the namespaces' `UserInterest`, by which the bus
/// follows users' channels).
public final class ClusterUserSlots: ConnectionCountStore, RedisLinkSource {
    public let interest: any LocalPresence
    private let prefix: String
    private let instanceID: String
    private let lease: TimeAmount
    private let logger: Logger
    /// The command connection, with the take and renew scripts loaded.
    private let scripts = ScriptLink(scripts: [ClusterUserSlots.takeScript, ClusterUserSlots.renewScript])
    /// Lease members this instance holds, per user.
    private let held = NIOLockedValueBox<(next: Int, byUser: [String: [String]])>((0, [:]))

    public init(interest: any LocalPresence, prefix: String, instanceID: String, lease: TimeAmount, logger: Logger) {
        self.interest = interest
        self.prefix = prefix
        self.instanceID = instanceID
        self.lease = lease
        self.logger = logger
    }

    private func key(_ userId: String) -> String { prefix + "conn:" + userId }
    private var leaseMs: String { String(lease.nanoseconds / 1_000_000) }

    // MARK: ConnectionCountStore

    /// Local only (Redis not consulted): what the cap means while Redis is away.
    public func acquire(_ userId: String) -> Bool { interest.acquire(userId) }

    public func acquire(_ userId: String, on eventLoop: any EventLoop) -> SlotAnswer {
        guard let redis = scripts.connection else { return .now(interest.acquire(userId)) }
        let member = held.withLockedValue { held -> String in
            held.next += 1
            return "\(instanceID):\(held.next)"
        }
        let taken = redis.evaluate(Self.takeScript, keys: [key(userId)], arguments: [String(interest.limit), leaseMs, member]).flatMap { [self] reply -> EventLoopFuture<Bool> in
            guard case .integer(1) = reply else { return eventLoop.makeSucceededFuture(false) }
            held.withLockedValue { $0.byUser[userId, default: []].append(member) }
            // The user's first socket here: the CONNECT waits until the bus follows their channel.
            return interest.acquireFollowed(userId, on: eventLoop).map { [self] taken in
                if !taken { release(lease: member, of: userId) }
                return taken
            }
        }.flatMapError { [self] _ in
            // Redis went away mid-call (or lost the script; the link loads it again): this
            // socket is counted here only, and gets its lease at the next renewal.
            eventLoop.makeSucceededFuture(interest.acquire(userId))
        }
        return .later(taken)
    }

    public func release(_ userId: String) {
        interest.release(userId)
        // Leases of one user are interchangeable: any of this instance's goes.
        let member = held.withLockedValue { held -> String? in held.byUser[userId]?.last }
        if let member { release(lease: member, of: userId) }
    }

    private func release(lease member: String, of userId: String) {
        held.withLockedValue { held in
            guard var members = held.byUser[userId], let index = members.lastIndex(of: member) else { return }
            members.remove(at: index)
            held.byUser[userId] = members.isEmpty ? nil : members
        }
        guard let redis = scripts.connection?.redis else { return }
        redis.eventLoop.execute { [self] in _ = redis.send(["ZREM", key(userId), member]) }
    }

    public var activeKeys: Int { interest.activeKeys }

    // MARK: Redis

    /// The connection leases are taken and renewed on, run with the gateway's other Redis links.
    public func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink] {
        [scripts.link(name: "connection-leases", address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] redis in
            // Leases held through an outage are put back at once, then kept alive.
            renewAll(on: redis)
            let interval = TimeAmount.nanoseconds(lease.nanoseconds / 3)
            let renewal = redis.redis.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
                renewAll(on: redis)
            }
            redis.redis.closeFuture.whenComplete { _ in renewal.cancel() }
        }]
    }

    /// Renews this instance's leases, and first gives every local socket one: sockets taken
    /// while Redis was away (counted locally) get theirs here, leases of sockets gone go.
    private func renewAll(on scripted: ScriptedConnection) {
        let redis = scripted.redis
        let sockets = interest.socketCounts
        let (users, surplus) = held.withLockedValue { held -> ([String: [String]], [(String, String)]) in
            var surplus: [(String, String)] = []
            for (userId, members) in held.byUser where members.count > sockets[userId, default: 0] {
                let extra = members.count - sockets[userId, default: 0]
                surplus += members.suffix(extra).map { (userId, $0) }
                let kept = Array(members.dropLast(extra))
                held.byUser[userId] = kept.isEmpty ? nil : kept
            }
            for (userId, count) in sockets {
                while held.byUser[userId, default: []].count < count {
                    held.next += 1
                    held.byUser[userId, default: []].append("\(instanceID):\(held.next)")
                }
            }
            return (held.byUser, surplus)
        }
        for (userId, member) in surplus { _ = redis.send(["ZREM", key(userId), member]) }
        for (userId, members) in users {
            _ = scripted.evaluate(Self.renewScript, keys: [key(userId)], arguments: [leaseMs] + members)
        }
    }

    /// KEYS[1] the user's leases; ARGV: cap, lease ms, new member. 1 when taken, else 0.
    static let takeScript = RedisScript(name: "lease-take", source: """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
        return 1
        """)

    /// KEYS[1] the user's leases; ARGV: lease ms, then the members to keep alive.
    static let renewScript = RedisScript(name: "lease-renew", source: """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
        return #ARGV - 1
        """)
}
