import NIOCore
import Synchronization

/// The bound on feed messages handed to the feed loop and not yet published, and the time of
/// the last one (for feed-stall alerts). A producer faster than the gateway cannot grow the
/// loop's queue without limit: past `maxPending` a batch is refused whole.
final class FeedIngestQueue: Sendable {
    let maxPending: Int
    private let pending = Atomic<Int>(0)
    /// Uptime (ns) of the last batch admitted (or of start-up).
    private let lastMessageAt = Atomic<UInt64>(NIODeadline.now().uptimeNanoseconds)

    init(maxPending: Int) {
        self.maxPending = maxPending
    }

    /// Takes `count` places; false (nothing taken) when that would pass `maxPending`.
    func admit(_ count: Int) -> Bool {
        guard pending.add(count, ordering: .relaxed).newValue <= maxPending else {
            pending.subtract(count, ordering: .relaxed)
            return false
        }
        lastMessageAt.store(NIODeadline.now().uptimeNanoseconds, ordering: .relaxed)
        return true
    }

    /// `count` admitted messages were published.
    func published(_ count: Int) {
        pending.subtract(count, ordering: .relaxed)
    }

    var secondsSinceLastMessage: Double {
        Double(NIODeadline.now().uptimeNanoseconds &- lastMessageAt.load(ordering: .relaxed)) / 1e9
    }
}
