import NIOCore

/// Per-channel throttles (SPEC §5 `feed.throttleMs`) on the feed loop, one ``Throttle`` per
/// stream and symbol. Prices, tickers and stats are latest-value data: a lagging socket
/// conflates them too.
extension MarketState {
    func publishThrottled(_ stream: LatestStream, symbol: String, payload: String) {
        let key = LatestStream.Key(stream: stream, symbol: symbol)
        latestValues.set(key, payload: payload)
        let interval = throttleIntervals[stream.event] ?? .zero
        guard interval > .zero else { return emitLatest(stream, symbol: symbol, payload: payload) }
        var throttle = throttles[key] ?? Throttle()
        switch throttle.offer(payload, now: clock, interval: interval) {
        case .send:
            emitLatest(stream, symbol: symbol, payload: payload)
        case .hold(let flushAt):
            if let flushAt {
                feedLoop.scheduleTask(deadline: flushAt) { [self] in flushThrottled(key) }
            }
        }
        throttles[key] = throttle
    }

    private func flushThrottled(_ key: LatestStream.Key) {
        guard var throttle = throttles[key] else { return }
        switch throttle.flush(now: NIODeadline.now(), interval: throttleIntervals[key.stream.event] ?? .zero) {
        case .send(let payload):
            emitLatest(key.stream, symbol: key.symbol, payload: payload)
        case .wait(let deadline):
            feedLoop.scheduleTask(deadline: deadline) { [self] in flushThrottled(key) }
        case .nothing:
            break
        }
        throttles[key] = throttle
    }
}
