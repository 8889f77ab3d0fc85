import RedisBridge

/// `redis.*`: present only when `redis.url` (REDIS_URL) is set.
struct RedisConfiguration: Sendable {
    var address: RedisAddress
    var prefix: String

    /// nil when no URL is configured (single-node mode) or the URL is bad (a problem is noted).
    static func read(_ reader: inout ConfigurationReader) -> RedisConfiguration? {
        let prefix = reader.string("redis.prefix")
        guard let url = reader.string("redis.url").nonEmpty else { return nil }
        guard let address = RedisAddress(url: url) else {
            reader.problem("redis.url", "expected redis://[user:password@]host[:port][/db]")
            return nil
        }
        return RedisConfiguration(address: address, prefix: prefix)
    }
}
