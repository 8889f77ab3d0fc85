import NIOCore

/// Per-channel throttles (SPEC §5 `feed.throttleMs`) on the feed loop, one ``Throttle`` per
/// event and symbol. Prices, tickers and stats are latest-value data: a lagging socket
/// conflates them too.
extension MarketState {
    func publishThrottled(event: String, symbol: String, payload: String) {
        let room: Room
        switch event {
        case "price.update": room = .prices(symbol)
        case "market.ticker": room = .market("ticker", symbol)
        default: room = .market("stats", symbol)
        }
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
