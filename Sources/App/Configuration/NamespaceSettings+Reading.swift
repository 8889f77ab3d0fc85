import GatewayCore
import Namespaces

/// `limits.*`, `rateLimits.*`, `recovery.*`, `tiers.*`, `feed.symbols`, `feed.throttleMs.*`,
/// `jwt.expiryWarningSeconds`: what the namespaces enforce.
extension NamespaceSettings {
    init(reading reader: inout ConfigurationReader) {
        self.init(
            symbols: reader.list("feed.symbols"),
            maxSymbolsPerConnection: reader.int("limits.maxSymbolsPerConnection", in: 1...10_000),
            maxChannelsPerUser: reader.int("limits.maxChannelsPerUser", in: 1...100_000),
            maxRoomsPerNamespace: reader.int("limits.maxRoomsPerNamespace", in: 1...10_000),
            maxConnectionsPerUser: reader.int("limits.maxConnectionsPerUser", in: 1...10_000),
            maxConnectionsPerIp: reader.int("limits.maxConnectionsPerIp", in: 1...1_000_000),
            premiumChannels: Set(reader.list("tiers.premiumChannels").compactMap(MarketChannel.init(rawValue:))),
            expiryWarningSeconds: Double(reader.int("jwt.expiryWarningSeconds", in: 0...86_400)),
            recovery: RecoverySettings(
                window: Double(reader.int("recovery.maxDisconnectionMs", in: 0...86_400_000)) / 1000,
                maxEventsPerUser: reader.int("recovery.maxEventsPerUser", in: 1...1_000_000),
                maxBytes: reader.int("recovery.maxBytes", in: 1_048_576...17_179_869_184)
            )
        )
        recovery.maxSessionsPerUser = reader.int("recovery.maxSessionsPerUser", in: 1...10_000)
        let block = Double(reader.int("rateLimits.blockDuration", in: 0...86_400))
        let allPoints = reader.optionalInt("rateLimits.points", in: 1...1_000_000)
        let allDuration = reader.optionalInt("rateLimits.duration", in: 1...86_400)
        for namespace in GatewayNamespaces.all {
            let key = namespace.configurationKey
            rateLimits[namespace.path] = TokenBucket.Policy(
                points: allPoints ?? reader.int("rateLimits.\(key).points", in: 1...1_000_000),
                duration: Double(allDuration ?? reader.int("rateLimits.\(key).duration", in: 1...86_400)),
                blockDuration: block
            )
        }
        let depthMs = reader.int("feed.throttleMs.depth", in: 0...1000)
        if FeedThrottles.depthCadence(milliseconds: depthMs) == nil {
            reader.problem("feed.throttleMs.depth", "expected 0 (raw), 100 or 1000: the default depth cadence")
        }
        throttles = FeedThrottles(
            pricesMs: reader.int("feed.throttleMs.prices", in: 0...60_000),
            statsMs: reader.int("feed.throttleMs.stats", in: 0...60_000),
            tickerMs: reader.int("feed.throttleMs.ticker", in: 0...60_000),
            depthCadence: FeedThrottles.depthCadence(milliseconds: depthMs) ?? .fast
        )
        if symbols == ["*"] {
            symbols = []
            learnedSymbolsLimit = reader.int("feed.maxSymbols", in: 1...1_000_000)
        } else if symbols.isEmpty {
            reader.problem("feed.symbols", "must list at least one symbol, or be \"*\" to learn them from the feed")
        }
        if let unknown = reader.list("tiers.premiumChannels").first(where: { MarketChannel(rawValue: $0) == nil }) {
            reader.problem("tiers.premiumChannels", "'\(unknown)' is not a market channel (\(Self.marketChannels.joined(separator: ", ")))")
        }
    }
}
