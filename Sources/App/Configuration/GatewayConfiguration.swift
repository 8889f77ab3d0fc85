import Namespaces

/// The gateway's whole configuration, one part per component, typed and validated. Built from
/// config/gateway.yaml and the environment (SPEC §9); a bad value stops start-up with every
/// problem listed. Keys, environment variables and defaults: ``ConfigurationKey``.
struct GatewayConfiguration: Sendable {
    var server: ServerConfiguration
    var namespaces: NamespaceSettings
    var feed: FeedConfiguration
    /// nil: no Redis (single-node mode).
    var redis: RedisConfiguration?
    var jwt: JWTConfiguration
    var logging: LoggingConfiguration
    var idempotency: IdempotencyConfiguration
    /// nil: no presence notices (`presence.webhookUrl` unset).
    var presence: PresenceSettings?

    init(source: ConfigurationSource) throws(ConfigurationError) {
        var reader = ConfigurationReader(source: source)
        server = ServerConfiguration(reading: &reader)
        namespaces = NamespaceSettings(reading: &reader)
        feed = FeedConfiguration(reading: &reader)
        redis = RedisConfiguration.read(&reader)
        jwt = JWTConfiguration(reading: &reader)
        logging = LoggingConfiguration(reading: &reader)
        idempotency = IdempotencyConfiguration(reading: &reader)
        presence = PresenceSettings(reading: &reader)
        // Rules across components.
        if feed.source == .redis && reader.string("redis.url").isEmpty {
            reader.problem("feed.source", "'redis' needs redis.url (REDIS_URL)")
        }
        let problems = source.problems + reader.problems
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}
