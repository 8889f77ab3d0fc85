import NIOCore

/// Per-channel throttles (SPEC §5 `feed.throttleMs`) on the feed loop, one ``Throttle`` per
/// event and symbol. Prices, tickers and stats are latest-value data: a lagging socket
/// conflates them too.
extension MarketState {
    /// The room a latest-value event of `symbol` goes to.
    static func room(ofLatest event: String, symbol: String) -> Room {
        switch event {
        case "price.update": .prices(symbol)
        case "market.ticker": .market("ticker", symbol)
        default: .market("stats", symbol)
        }
    }

    func publishThrottled(event: String, symbol: String, payload: String) {
        let room = Self.room(ofLatest: event, symbol: symbol)
        latestValues.set(event, symbol: symbol, payload: payload)
        let interval = throttleIntervals[event] ?? .zero
        guard interval > .zero else { return emitLatest(event, room: room, payload: payload) }
        let key = event + "|" + symbol
        var throttle = throttles[key] ?? Throttle()
        switch throttle.offer((room, payload), now: NIODeadline.now(), interval: interval) {
        case .send:
            emitLatest(event, room: room, payload: payload)
        case .hold(let flushAt):
            if let flushAt {
                feedLoop.scheduleTask(deadline: flushAt) { [self] in flushThrottled(key: key, event: event) }
            }
        }
        throttles[key] = throttle
    }

    private func flushThrottled(key: String, event: String) {
        guard var throttle = throttles[key] else { return }
        switch throttle.flush(now: NIODeadline.now(), interval: throttleIntervals[event] ?? .zero) {
        case .send(let (room, payload)):
            emitLatest(event, room: room, payload: payload)
        case .wait(let deadline):
            feedLoop.scheduleTask(deadline: deadline) { [self] in flushThrottled(key: key, event: event) }
        case .nothing:
            break
        }
        throttles[key] = throttle
    }
}
