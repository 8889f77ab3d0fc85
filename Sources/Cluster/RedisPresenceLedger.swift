import Foundation
import GatewayCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// Presence across every instance (docs/integration.md, "Presence"). Per key (a user, or a
/// symbol for occupancy), Redis holds the instances where it is present
/// (`{prefix}presence-at:{key}`, a lease per instance renewed every third of
/// `redis.connectionLeaseMs`) and its state (`{prefix}presence:{key}`: online or offline, and a
/// version). The tracker waits out the grace period before it reports a departure, so one
/// script decides every change at once, and exactly one instance announces each.
/// `{prefix}presence-due` orders present keys by when their last lease lapses: every instance
/// sweeps what is due each second, so an instance that crashes still has its keys go offline
/// once their leases lapse.
///
/// Redis unreachable: nothing is decided; the renewal after it returns announces who arrived
/// meanwhile, and the leases of who left lapse into the sweep.
public final class RedisPresenceLedger: PresenceLedger, RedisLinkSource {
    /// Keys settled per sweep round; rounds repeat at once while a full batch was due.
    static let sweepBatch = 100
    static let sweepRoundsPerSecond = 20

    private let prefix: String
    private let instanceID: String
    private let lease: TimeAmount
    private let logger: Logger
    private let scripts = ScriptLink(scripts: [RedisPresenceLedger.script])
    private let localKeys = NIOLockedValueBox<@Sendable () -> [String]>({ [] })
    /// Changes found by the renewal and the sweep, which no socket event asked for.
    private let unprompted = NIOLockedValueBox<(@Sendable (String, PresenceChange) -> Void)?>(nil)

    public init(prefix: String, instanceID: String, lease: TimeAmount, logger: Logger) {
        self.prefix = prefix
        self.instanceID = instanceID
        self.lease = lease
        self.logger = logger
    }

    public func follow(localKeys: @escaping @Sendable () -> [String], changes: @escaping @Sendable (String, PresenceChange) -> Void) {
        self.localKeys.withLockedValue { $0 = localKeys }
        unprompted.withLockedValue { $0 = changes }
    }

    public func arrived(_ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        run("arrive", key, answer: answer)
    }

    public func left(_ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        run("leave", key, answer: answer)
    }

    private func run(_ mode: String, _ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        guard let redis = scripts.connection else { return answer(nil) }
        run(mode, key, on: redis).whenComplete { answer((try? $0.get()) ?? nil) }
    }

    private func run(_ mode: String, _ key: String, on redis: ScriptedConnection) -> EventLoopFuture<PresenceChange?> {
        let keys = [prefix + "presence:" + key, prefix + "presence-at:" + key, prefix + "presence-due"]
        let arguments = [mode, instanceID, String(lease.nanoseconds / 1_000_000), key]
        return redis.evaluate(Self.script, keys: keys, arguments: arguments).map { [logger] reply -> PresenceChange? in
            switch reply {
            case .integer(let value) where value > 0: return PresenceChange(online: true, version: value)
            // Int64.min has no positive twin: a version that large is no version (and no trap).
            case .integer(let value) where value < 0 && value != .min: return PresenceChange(online: false, version: -value)
            case .integer: return nil
            default:
                BadInputLog.shared.log(logger, "Presence script failed", metadata: ["redis.reply": "\(reply)"])
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
        let keys = localKeys.withLockedValue { $0 }()
        for key in keys { report(run("renew", key, on: redis), key) }
    }

    /// Keys whose leases lapsed (their instance died or lost them), a batch at a time; another
    /// round follows at once while batches come back full, up to `sweepRoundsPerSecond`.
    private func sweep(on redis: ScriptedConnection, round: Int = 1) {
        let due = ["ZRANGEBYSCORE", prefix + "presence-due", "-inf", "(" + String(Self.wallClockMs()), "LIMIT", "0", String(Self.sweepBatch)]
        redis.redis.send(due).whenSuccess { [self] reply in
            guard case .array(let entries) = reply else { return }
            let settled = entries.compactMap(\.text).map { key in
                let settling = run("settle", key, on: redis)
                report(settling, key)
                return settling
            }
            guard entries.count == Self.sweepBatch, round < Self.sweepRoundsPerSecond else { return }
            EventLoopFuture.andAllComplete(settled, on: redis.redis.eventLoop).whenComplete { [self] _ in sweep(on: redis, round: round + 1) }
        }
    }

    private func report(_ future: EventLoopFuture<PresenceChange?>, _ userId: String) {
        future.whenSuccess { [self] change in
            guard let change else { return }
            unprompted.withLockedValue { $0 }?(userId, change)
        }
    }

    /// The sweep's upper bound; the script re-checks on Redis's clock, so skew only delays.
    private static func wallClockMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// KEYS: the key's state, the key's instances, the due list. ARGV: mode (arrive, renew, leave,
    /// settle), instance, lease ms, key. Returns the version of an online change, minus the
    /// version of an offline change, or 0.
    static let script = RedisScript(name: "presence", source: """
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local mode, instance, lease, key = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
        if mode == 'arrive' or mode == 'renew' then
          redis.call('ZADD', KEYS[2], now + lease, instance)
          redis.call('PEXPIRE', KEYS[2], lease * 2)
        elseif mode == 'leave' then
          redis.call('ZREM', KEYS[2], instance)
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        local state = redis.call('HGET', KEYS[1], 'state')
        if redis.call('ZCARD', KEYS[2]) > 0 then
          local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
          redis.call('ZADD', KEYS[3], tonumber(last[2]), key)
          if state == 'online' then return 0 end
          redis.call('HSET', KEYS[1], 'state', 'online')
          redis.call('PERSIST', KEYS[1])
          return redis.call('HINCRBY', KEYS[1], 'version', 1)
        end
        redis.call('ZREM', KEYS[3], key)
        if state ~= 'online' then return 0 end
        redis.call('HSET', KEYS[1], 'state', 'offline')
        redis.call('PEXPIRE', KEYS[1], 604800000)
        return -redis.call('HINCRBY', KEYS[1], 'version', 1)
        """)
}
