import GatewayCore
import DequeModule

/// The recent `/user` events of every user, kept for connection state recovery (SPEC §1): a
/// socket that comes back within the window is replayed what it missed, in order.
///
/// Offsets rise across all users (in cluster mode per user: two users' events may share one),
/// and are compared per user only. Memory is bounded four
/// ways: events older than `window` go, each user keeps at most `maxPerUser`, and the whole
/// log at most `maxTotal` events and `maxBytes` of payload (oldest first). What was dropped is remembered per user, so a
/// socket whose missed events are partly gone is told it cannot recover instead of getting
/// a hole.
struct UserEventLog {
    typealias Entry = UserEventEntry

    enum Replay: Equatable {
        case events([Entry])
        /// Some of the events after the offset were already dropped.
        case truncated
    }

    private struct Stream {
        var entries = Deque<Entry>()
        /// The highest offset of this user that was dropped before its time was up.
        var droppedThrough: UInt64 = 0
    }

    let window: Double
    let maxPerUser: Int
    let maxTotal: Int
    let maxBytes: Int
    private(set) var lastOffset: UInt64 = 0
    /// Payload bytes held.
    private(set) var bytes = 0
    private var streams: [String: Stream] = [:]
    /// Every entry in offset order: expiry and the global cap walk it from the front.
    private var order = Deque<(user: String, offset: UInt64, at: Double)>()

    init(window: Double, maxPerUser: Int = 1000, maxTotal: Int = 200_000, maxBytes: Int = 64 << 20) {
        self.window = window
        self.maxPerUser = maxPerUser
        self.maxTotal = maxTotal
        self.maxBytes = maxBytes
    }

    var count: Int { order.count }

    /// Appends an event under `offset` (cluster mode: the id Redis gave it) or, without one,
    /// under the next offset of this log.
    mutating func append(user: String, channel: String, event: String, payloadJSON: String, now: Double, offset: UInt64? = nil) -> Entry {
        expire(now: now)
        // A given offset only rises per user (its stream's order); the log's end is the highest seen.
        lastOffset = max(lastOffset + (offset == nil ? 1 : 0), offset ?? 0)
        let entry = Entry(offset: offset ?? lastOffset, channel: channel, event: event, payloadJSON: payloadJSON, at: now)
        streams[user, default: Stream()].entries.append(entry)
        bytes += payloadJSON.utf8.count
        order.append((user, entry.offset, now))
        if let stream = streams[user], stream.entries.count > maxPerUser, let first = stream.entries.first {
            drop(user: user, offset: first.offset, reason: .userCap)
        }
        while order.count > maxTotal || bytes > maxBytes, let oldest = order.popFirst() {
            drop(user: oldest.user, offset: oldest.offset, reason: .totalCap)
        }
        return entry
    }

    /// The user's events after `offset` on `channels` (plus `user`-wide ones), oldest first.
    func missed(user: String, after offset: UInt64, channels: Set<String>) -> Replay {
        // The total cap does not remember whose events it took: any socket older than what it
        // took is told it cannot recover, which is safe (it refetches) and only happens under
        // overload.
        if offset < totalCapDroppedThrough { return .truncated }
        guard let stream = streams[user] else { return .events([]) }
        if stream.droppedThrough > offset { return .truncated }
        var result: [Entry] = []
        for entry in stream.entries where entry.offset > offset {
            if entry.channel == "user" || channels.contains(entry.channel) { result.append(entry) }
        }
        return .events(result)
    }

    /// Drops events older than the window.
    mutating func expire(now: Double) {
        while let oldest = order.first, now - oldest.at > window {
            order.removeFirst()
            drop(user: oldest.user, offset: oldest.offset, reason: .expired)
        }
    }

    private enum DropReason { case expired, userCap, totalCap }
    private var totalCapDroppedThrough: UInt64 = 0

    /// Removes the user's entry at `offset` when it is still the oldest one (`order` keeps
    /// entries the per-user cap already took; they are skipped when they come up).
    private mutating func drop(user: String, offset: UInt64, reason: DropReason) {
        guard var stream = streams[user] else { return }
        if let first = stream.entries.first, first.offset == offset {
            stream.entries.removeFirst()
            bytes -= first.payloadJSON.utf8.count
            switch reason {
            case .expired: break
            case .userCap: stream.droppedThrough = max(stream.droppedThrough, offset)
            case .totalCap: totalCapDroppedThrough = max(totalCapDroppedThrough, offset)
            }
        }
        // A stream the per-user cap trimmed is kept (with what it dropped) until its entries expire.
        streams[user] = stream.entries.isEmpty && reason != .userCap ? nil : stream
    }
}
