import NIOCore

/// One (event, symbol) stream's throttle (SPEC §5 `feed.throttleMs`): at most one message per
/// interval, and the newest value goes out when the interval ends. A value: the caller owns the
/// timer (``Decision/hold(flushAt:)`` asks for one) and the sending.
struct Throttle<Item> {
    enum Decision {
        case send
        /// Kept as the newest; when `flushAt` is set, call ``flush(now:)`` then.
        case hold(flushAt: NIODeadline?)
    }

    private var lastSent = NIODeadline.uptimeNanoseconds(0)
    private var pending: Item?
    private var scheduled = false

    mutating func offer(_ item: Item, now: NIODeadline, interval: TimeAmount) -> Decision {
        if now - lastSent >= interval {
            // Newer than anything held: a timer that fires later must not send an older value.
            lastSent = now
            pending = nil
            return .send
        }
        pending = item
        if scheduled { return .hold(flushAt: nil) }
        scheduled = true
        return .hold(flushAt: lastSent + interval)
    }

    enum Flush {
        case send(Item)
        /// Something was sent since the timer was set: hold on until then, and flush again.
        case wait(until: NIODeadline)
        case nothing
    }

    /// The timer fired: the held item to send now, unless that would be inside the interval.
    mutating func flush(now: NIODeadline, interval: TimeAmount) -> Flush {
        guard let item = pending else {
            scheduled = false
            return .nothing
        }
        guard now - lastSent >= interval else { return .wait(until: lastSent + interval) }
        scheduled = false
        pending = nil
        lastSent = now
        return .send(item)
    }
}
