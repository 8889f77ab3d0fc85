import Foundation
import GatewayCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// Presence across every instance (docs/integration.md, "Presence"). Per user, Redis holds the
/// instances where the user has a `/user` socket (`{prefix}presence-at:{id}`, a lease per
/// instance renewed every third of `redis.connectionLeaseMs`) and the user's state
/// (`{prefix}presence:{id}`: online, leaving since a time, offline; and a version). One script
/// decides every change, so exactly one instance announces each. `{prefix}presence-due` lists
/// users to look at again (grace ends, leases expire): every instance sweeps it each second, so
/// an instance that crashes still has its users go offline once their leases lapse.
///
/// Redis unreachable: nothing is decided; the renewal after it returns announces who arrived
/// meanwhile, and the leases of who left lapse into the sweep.
public final class RedisPresenceLedger: PresenceLedger, RedisLinkSource {
    private let prefix: String
    private let instanceID: String
    private let lease: TimeAmount
    private let grace: TimeAmount
    private let logger: Logger
    private let scripts = ScriptLink(scripts: [RedisPresenceLedger.script])
    private let localUsers = NIOLockedValueBox<@Sendable () -> [String]>({ [] })
    /// Changes found by the renewal and the sweep, which no socket event asked for.
    private let unprompted = NIOLockedValueBox<(@Sendable (String, PresenceChange) -> Void)?>(nil)

    public init(prefix: String, instanceID: String, lease: TimeAmount, grace: TimeAmount, logger: Logger) {
        self.prefix = prefix
        self.instanceID = instanceID
        self.lease = lease
        self.grace = grace
        self.logger = logger
    }

    public func follow(localKeys: @escaping @Sendable () -> [String], changes: @escaping @Sendable (String, PresenceChange) -> Void) {
        localUsers.withLockedValue { $0 = localKeys }
        unprompted.withLockedValue { $0 = changes }
    }

    public func arrived(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        run("arrive", userId, answer: answer)
    }

    public func left(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        run("leave", userId, answer: answer)
    }

    public func settle(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        run("settle", userId, answer: answer)
    }

    private func run(_ mode: String, _ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        guard let redis = scripts.connection else { return answer(nil) }
        run(mode, userId, on: redis).whenComplete { answer((try? $0.get()) ?? nil) }
    }

    private func run(_ mode: String, _ userId: String, on redis: ScriptedConnection) -> EventLoopFuture<PresenceChange?> {
        let keys = [prefix + "presence:" + userId, prefix + "presence-at:" + userId, prefix + "presence-due"]
        let arguments = [mode, instanceID, String(lease.nanoseconds / 1_000_000), String(grace.nanoseconds / 1_000_000), userId]
        return redis.evaluate(Self.script, keys: keys, arguments: arguments).map { [logger] reply -> PresenceChange? in
            switch reply {
            case .integer(let value) where value > 0: return PresenceChange(online: true, version: value)
            case .integer(let value) where value < 0: return PresenceChange(online: false, version: -value)
            case .integer: return nil
            default:
                logger.warning("Presence script failed", metadata: ["user.id": "\(userId)", "redis.reply": "\(reply)"])
                return nil
            }
        }
    }

    public func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink] {
        [scripts.link(name: "presence", address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] redis in
            // Back from an outage: who is here now is announced (if nobody did) and kept alive.
            renewAll(on: redis)
            let renewal = TimeAmount.nanoseconds(lease.nanoseconds / 3)
            let renewing = redis.redis.eventLoop.scheduleRepeatedTask(initialDelay: renewal, delay: renewal) { [self] _ in renewAll(on: redis) }
            let sweeping = redis.redis.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in sweep(on: redis) }
            redis.redis.closeFuture.whenComplete { _ in
                renewing.cancel()
                sweeping.cancel()
            }
        }]
    }

    private func renewAll(on redis: ScriptedConnection) {
        let users = localUsers.withLockedValue { $0 }()
        for userId in users { report(run("renew", userId, on: redis), userId) }
    }

    /// Users whose grace ended or whose leases lapsed, a hundred at a time.
    private func sweep(on redis: ScriptedConnection) {
        redis.redis.send(["ZRANGEBYSCORE", prefix + "presence-due", "-inf", "(" + String(Self.redisNowMs()), "LIMIT", "0", "100"]).whenSuccess { [self] reply in
            guard case .array(let entries) = reply else { return }
            for entry in entries {
                guard let userId = entry.text else { continue }
                report(run("settle", userId, on: redis), userId)
            }
        }
    }

    private func report(_ future: EventLoopFuture<PresenceChange?>, _ userId: String) {
        future.whenSuccess { [self] change in
            guard let change else { return }
            unprompted.withLockedValue { $0 }?(userId, change)
        }
    }

    /// The sweep's upper bound; the script re-checks on Redis's clock, so skew only delays.
    private static func redisNowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// KEYS: the user's state, the user's instances, the due list. ARGV: mode (arrive, renew,
    /// leave, settle), instance, lease ms, grace ms, user id. Returns the version of an online
    /// change, minus the version of an offline change, or 0.
    static let script = RedisScript(name: "presence", source: """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local mode, instance, lease, grace, uid = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
        if mode == 'arrive' or mode == 'renew' then
          redis.call('ZADD', KEYS[2], now + lease, instance)
          redis.call('PEXPIRE', KEYS[2], lease * 2)
        elseif mode == 'leave' then
          redis.call('ZREM', KEYS[2], instance)
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        local live = redis.call('ZCARD', KEYS[2])
        local state = redis.call('HGET', KEYS[1], 'state')
        if live > 0 then
          local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
          redis.call('ZADD', KEYS[3], tonumber(last[2]), uid)
          if state == 'online' then return 0 end
          redis.call('HSET', KEYS[1], 'state', 'online')
          redis.call('PERSIST', KEYS[1])
          if state == 'leaving' then return 0 end
          return redis.call('HINCRBY', KEYS[1], 'version', 1)
        end
        if state == 'online' then
          redis.call('HSET', KEYS[1], 'state', 'leaving', 'since', now)
          redis.call('ZADD', KEYS[3], now + grace, uid)
          return 0
        end
        if state == 'leaving' then
          local since = tonumber(redis.call('HGET', KEYS[1], 'since'))
          if now - since >= grace then
            redis.call('HSET', KEYS[1], 'state', 'offline')
            redis.call('PEXPIRE', KEYS[1], 604800000)
            redis.call('ZREM', KEYS[3], uid)
            return -redis.call('HINCRBY', KEYS[1], 'version', 1)
          end
          redis.call('ZADD', KEYS[3], since + grace, uid)
          return 0
        end
        redis.call('ZREM', KEYS[3], uid)
        return 0
        """)
}
