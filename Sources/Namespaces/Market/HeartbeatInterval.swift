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
