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
/// The local counts are the ``UserInterest`` the bus follows users' channels by.
public final class ClusterUserSlots: ConnectionCountStore {
    public let interest: UserInterest
    private let prefix: String
    private let instanceID: String
    private let lease: TimeAmount
    private let logger: Logger
    private let connection = NIOLockedValueBox<(redis: RedisConnection, take: String, renew: String)?>(nil)
    /// Lease members this instance holds, per user.
    private let held = NIOLockedValueBox<(next: Int, byUser: [String: [String]])>((0, [:]))

    public init(interest: UserInterest, prefix: String, instanceID: String, lease: TimeAmount, logger: Logger) {
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
        guard let (redis, take, _) = connection.withLockedValue({ $0 }) else { return .now(interest.acquire(userId)) }
        let member = held.withLockedValue { held -> String in
            held.next += 1
            return "\(instanceID):\(held.next)"
        }
        let promise = eventLoop.makePromise(of: Bool.self)
        let arguments = ["EVALSHA", take, "1", key(userId), String(interest.limit), leaseMs, member]
        redis.eventLoop.execute { [self] in
            redis.send(arguments).whenComplete { [self] result in
                switch result {
                case .success(.integer(1)):
                    guard interest.acquire(userId) else {
                        _ = redis.send(["ZREM", key(userId), member])
                        return promise.succeed(false)
                    }
                    held.withLockedValue { $0.byUser[userId, default: []].append(member) }
                    promise.succeed(true)
                case .success:
                    promise.succeed(false)
                case .failure:
                    // Redis went away mid-call: this socket is counted here only.
                    promise.succeed(interest.acquire(userId))
                }
            }
        }
        return .later(promise.futureResult)
    }

    public func release(_ userId: String) {
        interest.release(userId)
        let member = held.withLockedValue { held -> String? in
            guard var members = held.byUser[userId], let member = members.popLast() else { return nil }
            held.byUser[userId] = members.isEmpty ? nil : members
            return member
        }
        guard let member, let redis = connection.withLockedValue({ $0?.redis }) else { return }
        redis.eventLoop.execute { [self] in _ = redis.send(["ZREM", key(userId), member]) }
    }

    public var activeKeys: Int { interest.activeKeys }

    // MARK: Redis

    /// The connection leases are taken and renewed on, run with the gateway's other Redis links.
    public func link(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> RedisLink {
        RedisLink(name: "connection-leases", address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] redis in
            redis.send(["SCRIPT", "LOAD", Self.takeScript]).and(redis.send(["SCRIPT", "LOAD", Self.renewScript])).flatMap { [self] replies in
                guard let take = replies.0.text, let renew = replies.1.text else {
                    return redis.eventLoop.makeFailedFuture(RedisError(.protocolError, "SCRIPT LOAD gave no SHA"))
                }
                connection.withLockedValue { $0 = (redis, take, renew) }
                // Leases held through an outage are put back at once, then kept alive.
                renewAll(on: redis, script: renew)
                let interval = TimeAmount.nanoseconds(lease.nanoseconds / 3)
                let renewal = redis.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
                    renewAll(on: redis, script: renew)
                }
                return redis.closeFuture.always { _ in renewal.cancel() }
            }.always { [self] _ in
                connection.withLockedValue { if $0?.redis === redis { $0 = nil } }
            }
        }
    }

    private func renewAll(on redis: RedisConnection, script: String) {
        let users = held.withLockedValue { $0.byUser }
        for (userId, members) in users {
            _ = redis.send(["EVALSHA", script, "1", key(userId), leaseMs] + members)
        }
    }

    /// KEYS[1] the user's leases; ARGV: cap, lease ms, new member. 1 when taken, else 0.
    static let takeScript = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
        return 1
        """

    /// KEYS[1] the user's leases; ARGV: lease ms, then the members to keep alive.
    static let renewScript = """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
        return #ARGV - 1
        """
}
