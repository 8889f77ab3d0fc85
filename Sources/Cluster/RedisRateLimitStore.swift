import GatewayCore
import GatewayMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// Token buckets shared by every instance (SPEC §4, §8): one Lua script per take runs the same
/// rule as ``TokenBucket`` (`points` over `duration`, a block of `blockDuration` once empty,
/// `retryAfterMs`) atomically in Redis, on Redis's clock. Only authenticated users' buckets are
/// shared: an anonymous client's bucket belongs to its connection, which lives on one instance,
/// so it stays local and costs no round trip. While Redis is unreachable every bucket is local.
///
/// A slow Redis must not hold clients up: a take that Redis has not answered within
/// `deadline` is decided by the local bucket (a late reply is ignored), and so is one that
/// Redis refuses at once (down, or too many commands waiting). Each such decision is reported
/// to `onLocalDecision` with its reason (`.slow`, `.unavailable`), for
/// `gateway_rate_limit_local_total`.
public final class RedisRateLimitStore: RateLimitStore, RedisLinkSource {
    private let local: LocalRateLimitStore
    private let prefix: String
    private let logger: Logger
    private let deadline: TimeAmount
    private let onLocalDecision: @Sendable (GatewayMetrics.LocalRateDecision) -> Void
    /// The command connection, with the bucket script loaded.
    private let scripts = ScriptLink(scripts: [RedisRateLimitStore.script])

    public init(
        local: LocalRateLimitStore = LocalRateLimitStore(), prefix: String, deadline: TimeAmount = .milliseconds(250), logger: Logger,
        onLocalDecision: @escaping @Sendable (GatewayMetrics.LocalRateDecision) -> Void = { _ in }
    ) {
        self.local = local
        self.prefix = prefix
        self.deadline = deadline
        self.logger = logger
        self.onLocalDecision = onLocalDecision
    }

    /// Connection buckets are local; shared ones expire in Redis on their own.
    public func forget(key: RateLimitKey) {
        local.forget(key: key)
    }

    public func takeLocally(key: RateLimitKey, policy: TokenBucket.Policy, now: Double) -> TokenBucket.Decision {
        local.takeLocally(key: key, policy: policy, now: now)
    }

    public func take(key: RateLimitKey, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer {
        guard key.isShared, let redis = scripts.connection else {
            return .now(local.takeLocally(key: key, policy: policy, now: now))
        }
        let promise = eventLoop.makePromise(of: TokenBucket.Decision.self)
        // Whichever comes first, Redis's answer or the deadline, decides; the other is ignored.
        let decided = NIOLockedValueBox(false)
        let decide: @Sendable (TokenBucket.Decision?, GatewayMetrics.LocalRateDecision?) -> Void = { [local, onLocalDecision] decision, localReason in
            guard decided.withLockedValue({ done in defer { done = true }; return !done }) else { return }
            if let decision { return promise.succeed(decision) }
            onLocalDecision(localReason ?? .unavailable)
            promise.succeed(local.takeLocally(key: key, policy: policy, now: now))
        }
        let timer = eventLoop.scheduleTask(in: deadline) { decide(nil, .slow) }
        let arguments = [String(policy.points), String(policy.duration), String(policy.blockDuration)]
        redis.evaluate(Self.script, keys: [prefix + "rl:" + key.storageName], arguments: arguments).whenComplete { result in
            timer.cancel()
            switch result {
            case .success(.integer(let retryAfterMs)):
                decide(retryAfterMs == 0 ? .allowed : .refused(retryAfterMs: Int(retryAfterMs)), nil)
            default:
                // Redis went away mid-call, lost the script (the link loads it again), or has
                // too many commands waiting: decided here.
                decide(nil, .unavailable)
            }
        }
        return .later(promise.futureResult)
    }

    /// The connection the buckets are taken on, run with the gateway's other Redis links.
    public func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink] {
        [scripts.link(name: "rate-limits", address: address, eventLoop: eventLoop, status: status, logger: logger)]
    }

    /// ``TokenBucket/take(policy:now:)`` in Lua. Returns 0 when allowed, else `retryAfterMs`.
    static let script = RedisScript(name: "token-bucket", source: """
        local points = tonumber(ARGV[1])
        local duration = math.max(tonumber(ARGV[2]), 0.001)
        local block = tonumber(ARGV[3])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'blocked')
        local tokens = tonumber(state[1]) or points
        local at = tonumber(state[2]) or now
        local blocked = tonumber(state[3])
        local ttl = math.ceil((duration + block) * 1000) + 1000
        if blocked and now < blocked then
          return math.max(1, math.ceil((blocked - now) * 1000))
        end
        if blocked then tokens = points end
        tokens = math.min(points, tokens + (now - at) * points / duration)
        if tokens >= 1 then
          redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(now))
          redis.call('HDEL', KEYS[1], 'blocked')
          redis.call('PEXPIRE', KEYS[1], ttl)
          return 0
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'blocked', tostring(now + block))
        redis.call('PEXPIRE', KEYS[1], ttl)
        return math.max(1, math.ceil(block * 1000))
        """)
}
