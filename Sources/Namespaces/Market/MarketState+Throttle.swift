import GatewayCore
import NIOCore

/// Per-channel throttles (SPEC §5 `feed.throttleMs`) on the feed loop.
extension MarketState {
    struct Throttle {
        var lastSent = NIODeadline.uptimeNanoseconds(0)
        var pending: (room: Room, payload: String)?
        var scheduled = false
    }

    /// Sends at once when the symbol's last message on this channel is at least the throttle
    /// old, else keeps the newest and sends it when the interval ends. Prices, tickers and
    /// stats are latest-value data: a lagging socket conflates them too.
    func publishThrottled(event: String, symbol: String, payload: String) {
        let key = event + "|" + symbol
        let room: Room
        switch event {
        case "price.update": room = .prices(symbol)
        case "market.ticker": room = .market("ticker", symbol)
        default: room = .market("stats", symbol)
        }
        latestPayloads.withLockedValue { $0[key] = payload }
        let interval = throttleIntervals[event] ?? .zero
        guard interval > .zero else { return emitLatest(event, room: room, payload: payload) }
        var entry = throttled[key] ?? Throttle()
        let now = NIODeadline.now()
        if now - entry.lastSent >= interval {
            entry.lastSent = now
            emitLatest(event, room: room, payload: payload)
        } else {
            entry.pending = (room, payload)
            if !entry.scheduled {
                entry.scheduled = true
                feedLoop.scheduleTask(deadline: entry.lastSent + interval) { [self] in flushThrottled(key: key, event: event) }
            }
        }
        throttled[key] = entry
    }

    private func flushThrottled(key: String, event: String) {
        guard var entry = throttled[key] else { return }
        entry.scheduled = false
        if let (room, payload) = entry.pending {
            entry.pending = nil
            entry.lastSent = NIODeadline.now()
            emitLatest(event, room: room, payload: payload)
        }
        throttled[key] = entry
    }
}
