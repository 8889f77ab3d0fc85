import GatewayJSON

/// `heartbeatMs` on a `/prices` or `/market` subscribe (docs/market-data.md): a few fixed
/// intervals, so each is one room per symbol and one encoded heartbeat for all its members.
enum HeartbeatInterval {
    static let allowedMs = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000]

    /// What a subscribe asked for: nil (absent: unchanged), `.some(0)` off, else an interval.
    static func parse(_ payload: JSONValue?) -> Result<Int?, ClientError> {
        guard let value = payload?["heartbeatMs"] else { return .success(nil) }
        guard let ms = value.intValue, ms == 0 || allowedMs.contains(ms) else {
            return .failure(ClientError(.invalidPayload, "'heartbeatMs' must be 0 (off) or one of \(allowedMs.map(String.init).joined(separator: ", "))."))
        }
        return .success(ms)
    }
}

/// `"depth"` on a `/market` depth subscribe: the levels per side a subscriber holds.
public enum DepthLevels: Int, CaseIterable, Sendable, Hashable {
    case ten = 10, fifty = 50, twoHundred = 200, thousand = 1_000

    static func parse(_ payload: JSONValue?, channels: [MarketChannel]) -> Result<DepthLevels?, ClientError> {
        guard let value = payload?["depth"] else { return .success(nil) }
        let allowed = allCases.map { String($0.rawValue) }.joined(separator: ", ")
        guard let number = value.intValue, let levels = DepthLevels(rawValue: number) else {
            return .failure(ClientError(.invalidPayload, "'depth' must be one of \(allowed) (levels per side; leave it out for the whole book)."))
        }
        guard channels.contains(.depth) else {
            return .failure(ClientError(.invalidPayload, "'depth' applies to the depth channel; add \"depth\" to 'channels'."))
        }
        return .success(levels)
    }
}
