import GatewayCore
import Logging
import NIOCore
import RedisBridge

/// Idempotency keys shared by every instance (docs/integration.md): one Lua script per claim sets
/// `{prefix}idem:{key}` to the fingerprint for the window unless it is there, and says what it
/// found. While Redis is unreachable (or refuses the call) claims are decided by the local store:
/// a retry that reaches another instance meanwhile may be delivered again (at least once holds).
public final class RedisIdempotencyStore: IdempotencyStore, RedisLinkSource {
    private let local: LocalIdempotencyStore
    private let prefix: String
    private let logger: Logger
    private let onLocalDecision: @Sendable () -> Void
    private let scripts = ScriptLink(scripts: [RedisIdempotencyStore.script])

    public init(local: LocalIdempotencyStore, prefix: String, logger: Logger, onLocalDecision: @escaping @Sendable () -> Void = {}) {
        self.local = local
        self.prefix = prefix
        self.logger = logger
        self.onLocalDecision = onLocalDecision
    }

    public func claim(_ key: String, fingerprint: String, window: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<IdempotencyClaim> {
        let local = local
        let onLocalDecision = onLocalDecision
        guard let redis = scripts.connection else {
            onLocalDecision()
            return local.claim(key, fingerprint: fingerprint, window: window, on: eventLoop)
        }
        let milliseconds = String(max(1, window.nanoseconds / 1_000_000))
        return redis.evaluate(Self.script, keys: [prefix + "idem:" + key], arguments: [fingerprint, milliseconds])
            .hop(to: eventLoop)
            .map { reply -> IdempotencyClaim? in
                switch reply {
                case .integer(0): .first
                case .integer(1): .repeated
                case .integer(2): .conflict
                default: nil
                }
            }
            .recover { _ in nil }
            .map { claim in
                if let claim { return claim }
                onLocalDecision()
                return local.claimNow(key, fingerprint: fingerprint, window: window, now: .now())
            }
    }

    public func links(address: RedisAddress, eventLoop: any EventLoop, status: RedisStatus) -> [RedisLink] {
        [scripts.link(name: "idempotency", address: address, eventLoop: eventLoop, status: status, logger: logger)]
    }

    /// 0: claimed now; 1: held with the same fingerprint; 2: held with another.
    static let script = RedisScript(name: "idempotency-claim", source: """
        local held = redis.call('GET', KEYS[1])
        if not held then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
          return 0
        end
        if held == ARGV[1] then return 1 end
        return 2
        """)
}
