import GatewayJSON

/// Latest values across instances (cluster mode). An instance hears a symbol's ticks, tickers
/// and stats only while it has subscribers for it: it drops what it holds when it stops
/// listening, and asks the other instances for theirs when it starts again (keeping the newest).
extension MarketState {
    /// The newest price, ticker and stats payloads of `symbol`, as `[{"event","payload"}]`.
    public func latestValues(of symbol: String) -> JSONValue {
        .array(latestValues.all(symbol: symbol).map { value in
            .object(["event": .string(value.stream.event), "payload": .fragment(value.payload)])
        })
    }

    /// Another instance's latest values (``latestValues(of:)``): each one newer (by its `ts`)
    /// than what this instance holds is kept and sent to its room, so new subscribers see the
    /// market as it is now.
    public func adoptLatestValues(_ answer: JSONValue, symbol: String) {
        guard let items = answer.arrayValue else { return }
        feedLoop.execute { [self] in
            for item in items {
                // Another instance's answer: its event names are checked against ours.
                guard let stream = item["event"]?.stringValue.flatMap(LatestStream.init(rawValue:)), let payload = item["payload"] else { continue }
                let text = JSONSerializer.serialize(payload)
                if latestValues.replace(.init(stream: stream, symbol: symbol), payload: text, ifNewerThanHeld: Self.timestamp) {
                    emitLatest(stream, symbol: symbol, payload: text)
                }
            }
        }
    }

    /// A payload's `ts` (milliseconds), when it has one.
    @Sendable static func timestamp(_ payload: String) -> Double? {
        guard let value = try? JSONParser.parse(Array(payload.utf8)), case .number(let text)? = value["ts"] else { return nil }
        return Double(text)
    }

    /// This instance stopped hearing `symbol`: what it holds would go stale, and its silence
    /// from now on says nothing of the feed (it is judged again from its next message here).
    public func forgetLatestValues(of symbol: String) {
        feedLoop.execute { [self] in
            latestValues.remove(symbol: symbol)
            stopJudging(symbol)
        }
    }
}
