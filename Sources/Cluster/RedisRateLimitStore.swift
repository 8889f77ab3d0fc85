import GatewayCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBridge

/// Token buckets shared by every instance (SPEC §4, §8): one Lua script per take runs the same
/// rule as ``TokenBucket`` (`points` over `duration`, a block of `blockDuration` once empty,
/// `retryAfterMs`) atomically in Redis, on Redis's clock. Only authenticated users' buckets are
/// shared: an anonymous client's bucket belongs to its connection, which lives on one instance,
/// so it stays local and costs no round trip. While Redis is unreachable every bucket is local.
public final class RedisRateLimitStore: RateLimitStore {
    private let local: LocalRateLimitStore
    private let prefix: String
    private let logger: Logger
    /// The command connection and the script's SHA once loaded on it.
    private let connection = NIOLockedValueBox<(RedisConnection, String)?>(nil)

    public init(local: LocalRateLimitStore = LocalRateLimitStore(), prefix: String, logger: Logger) {
        self.local = local
        self.prefix = prefix
        self.logger = logger
    }

    /// Connection buckets are local; shared ones expire in Redis on their own.
    public func forget(key: String) {
        local.forget(key: key)
    }

    public func take(key: String, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer {
        guard key.contains("|user:"), let (redis, sha) = connection.withLockedValue({ $0 }) else {
            return .now(local.take(key: key, policy: policy, now: now))
        }
        let arguments = [
            "EVALSHA", sha, "1", prefix + "rl:" + key,
            String(policy.points), String(policy.duration), String(policy.blockDuration),
        ]
        let promise = eventLoop.makePromise(of: TokenBucket.Decision.self)
        redis.eventLoop.execute { [local] in
            redis.send(arguments).whenComplete { result in
                switch result {
                case .success(.integer(let retryAfterMs)):
                    promise.succeed(retryAfterMs == 0 ? .allowed : .refused(retryAfterMs: Int(retryAfterMs)))
                case .failure(let error) where "\(error)".contains("NOSCRIPT"):
                    redis.close()  // the link reconnects and loads the script again
                    promise.succeed(local.take(key: key, policy: policy, now: now))
                default:
                    // Redis went away mid-call: this event is decided here.
                    promise.succeed(local.take(key: key, policy: policy, now: now))
                }
            }
        }
        return .later(promise.futureResult)
    }

    /// The connection the buckets are taken on, run with the gateway's other Redis links.
    public func link(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> RedisLink {
        RedisLink(name: "rate-limits", address: address, eventLoop: eventLoop, status: status, logger: logger) { [self] redis in
            redis.loadScripts([Self.script]).flatMap { [self] shas in
                connection.withLockedValue { $0 = (redis, shas[0]) }
                return redis.closeFuture
            }.always { [self] _ in
                connection.withLockedValue { if $0?.0 === redis { $0 = nil } }
            }
        }
    }

    /// ``TokenBucket/take(policy:now:)`` in Lua. Returns 0 when allowed, else `retryAfterMs`.
    static let script = """
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
        """
}
