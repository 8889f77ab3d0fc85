import GatewayTLS
import NIOCore
import RedisBridge

/// `redis.*`: present only when `redis.url` (REDIS_URL) is set.
struct RedisConfiguration: Sendable {
    var address: RedisAddress
    var prefix: String
    /// How long a `/user` socket's cluster-wide slot lives without being renewed (its instance
    /// renews every third of it; a crashed instance's slots free themselves after it).
    var connectionLease: TimeAmount
    /// A shared rate-limit check that Redis has not answered within this is decided locally.
    var rateLimitDeadline: TimeAmount

    /// nil when no URL is configured (single-node mode) or the URL is bad (a problem is noted).
    static func read(_ reader: inout ConfigurationReader) -> RedisConfiguration? {
        let prefix = reader.string("redis.prefix")
        let lease = TimeAmount.milliseconds(Int64(reader.int("redis.connectionLeaseMs", in: 1000...3_600_000)))
        let deadline = TimeAmount.milliseconds(Int64(reader.int("redis.rateLimitDeadlineMs", in: 1...10_000)))
        let maximumPending = reader.int("redis.maxPendingCommands", in: 16...1_000_000)
        let tls = ClientTLS(
            caFile: reader.string("redis.tls.caFile").nonEmpty, certificateFile: reader.string("redis.tls.certificateFile").nonEmpty,
            keyFile: reader.string("redis.tls.keyFile").nonEmpty,
            keys: ("redis.tls.caFile", "redis.tls.certificateFile", "redis.tls.keyFile")
        )
        guard let url = reader.string("redis.url").nonEmpty else { return nil }
        guard var address = RedisAddress(url: url) else {
            reader.problem("redis.url", "expected redis://[user:password@]host[:port][/db] or rediss://… for TLS")
            return nil
        }
        address.maximumPending = maximumPending
        if address.usesTLS {
            // Files are read once here: a bad one stops start-up, naming its key.
            do throws(TLSFileError) {
                address.tls = RedisTLSContext(try tls.makeContext())
            } catch {
                reader.problem(error.key, error.problem)
            }
        } else if tls.caFile != nil || tls.certificateFile != nil {
            reader.problem("redis.tls.caFile", "TLS files are set but redis.url is not rediss://")
        }
        return RedisConfiguration(address: address, prefix: prefix, connectionLease: lease, rateLimitDeadline: deadline)
    }
}
