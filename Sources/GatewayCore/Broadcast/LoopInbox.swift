import NIOConcurrencyHelpers

/// Broadcasts waiting for one event loop. Publishers on other threads (the feed loop, other
/// event loops) append; the loop takes everything waiting in one pass (``LoopContext``), writes
/// it and flushes once.
///
/// Why not one `execute` per broadcast: NIO runs a loop tick's tasks until its queue is empty,
/// tasks queued meanwhile included, and reads its sockets only between ticks. Under a steady
/// fan-out the queue never emptied, so the loop read nothing (a producer's POST, an ack, a pong)
/// for as long as the fan-out kept coming: tens of milliseconds, and a tail that came and went.
/// Work that arrives during a pass waits for the next pass, which the loop starts after it has
/// polled its sockets.
final class LoopInbox: Sendable {
    typealias Work = @Sendable () -> Void

    private struct State {
        var waiting: [Work] = []
        /// A pass is queued or running: appending only adds to it.
        var passPending = false
    }

    private let state = NIOLockedValueBox(State())

    /// Adds `work`; true when no pass is pending, so the caller must start one.
    func append(_ work: @escaping Work) -> Bool {
        state.withLockedValue { state in
            state.waiting.append(work)
            guard !state.passPending else { return false }
            state.passPending = true
            return true
        }
    }

    /// Everything waiting, swapped into `taken` (an empty array whose capacity is reused).
    func take(into taken: inout [Work]) {
        state.withLockedValue { state in swap(&state.waiting, &taken) }
    }

    /// At the end of a pass: true when more arrived meanwhile (a next pass stays pending).
    func finishPass() -> Bool {
        state.withLockedValue { state in
            if state.waiting.isEmpty { state.passPending = false }
            return state.passPending
        }
    }
}
