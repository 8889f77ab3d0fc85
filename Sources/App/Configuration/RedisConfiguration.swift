import NIOCore
import RedisBridge

/// `redis.*`: present only when `redis.url` (REDIS_URL) is set.
struct RedisConfiguration: Sendable {
    var address: RedisAddress
    var prefix: String
    /// How long a `/user` socket's cluster-wide slot lives without being renewed (its instance
    /// renews every third of it; a crashed instance's slots free themselves after it).
    var connectionLease: TimeAmount

    /// nil when no URL is configured (single-node mode) or the URL is bad (a problem is noted).
    static func read(_ reader: inout ConfigurationReader) -> RedisConfiguration? {
        let prefix = reader.string("redis.prefix")
        let lease = TimeAmount.milliseconds(Int64(reader.int("redis.connectionLeaseMs", in: 1000...3_600_000)))
        guard let url = reader.string("redis.url").nonEmpty else { return nil }
        guard let address = RedisAddress(url: url) else {
            reader.problem("redis.url", "expected redis://[user:password@]host[:port][/db]")
            return nil
        }
        return RedisConfiguration(address: address, prefix: prefix, connectionLease: lease)
    }
}
