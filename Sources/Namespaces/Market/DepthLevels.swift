import GatewayJSON

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
