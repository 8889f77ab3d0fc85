import GatewayJSON
import MarketFeed

/// `market.occupancy {symbol, watched, version, ts}`: a symbol gained its first subscriber in
/// the cluster, or has had none for a second. Built here and read back from the cluster bus.
public struct OccupancyNotice: Sendable, Equatable {
    public let symbol: String
    public let watched: Bool
    public let version: Int64
    public let ts: Int64

    public init(symbol: String, watched: Bool, version: Int64, ts: Int64) {
        self.symbol = symbol
        self.watched = watched
        self.version = version
        self.ts = ts
    }

    /// nil unless every field is there with its type and the symbol is well formed.
    init?(_ json: JSONValue) {
        guard let symbol = json["symbol"]?.stringValue, SymbolCatalog.isWellFormed(symbol),
            let watched = json["watched"]?.boolValue,
            case .number(let versionText)? = json["version"], let version = Int64(versionText),
            case .number(let tsText)? = json["ts"], let ts = Int64(tsText)
        else { return nil }
        self.init(symbol: symbol, watched: watched, version: version, ts: ts)
    }

    public var json: JSONValue {
        .object([
            JSONMember("symbol", .string(symbol)), JSONMember("watched", .bool(watched)),
            JSONMember("version", .number(String(version))), JSONMember("ts", .number(String(ts))),
        ])
    }
}
