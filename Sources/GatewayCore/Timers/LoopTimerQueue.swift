import DequeModule
import NIOCore

/// Timers on one event loop that all wait the same `delay`: connection deadlines and heartbeats,
/// one or more per connection. Every timer is due in the order it was armed, so a FIFO holds them
/// and one NIO task, for the earliest, stands for all of them. Arming and cancelling cost O(1).
/// NIO's own scheduled tasks sit in one heap per loop, and cancelling one scans that heap: with
/// thousands of connections (each holding a heartbeat there) every cancelled deadline cost a
/// walk over all of them.
///
/// Loop-confined: arm, cancel and fire happen on `eventLoop` only.
public final class LoopTimerQueue {
    public let eventLoop: any EventLoop
    public let delay: TimeAmount
    private var timers = Deque<LoopTimer>()
    private var cancelledCount = 0
    /// The NIO task for `timers.first`'s deadline, while one is set.
    private var wakeUp: Scheduled<Void>?
    /// Set while due timers run: one wake-up is scheduled after them, for what is left.
    private var firing = false

    init(eventLoop: any EventLoop, delay: TimeAmount) {
        self.eventLoop = eventLoop
        self.delay = delay
    }

    /// Runs `action` on the loop once `delay` has passed, unless the timer is cancelled first.
    public func arm(_ action: @escaping () -> Void) -> LoopTimer {
        eventLoop.assertInEventLoop()
        let timer = LoopTimer(deadline: eventLoop.now + delay, queue: self, action: action)
        timers.append(timer)
        if wakeUp == nil && !firing { scheduleWakeUp(at: timer.deadline) }
        return timer
    }

    /// Timers armed and neither fired nor cancelled yet.
    public var pendingCount: Int { timers.count - cancelledCount }

    /// Entries kept in the FIFO, cancelled ones included (bounded: see ``timerCancelled()``).
    public var storedCount: Int { timers.count }

    func timerCancelled() {
        cancelledCount += 1
        // A cancelled timer waits in the FIFO until its deadline; past this many they are
        // dropped at once, so the FIFO holds at most about twice the live timers.
        if cancelledCount > 1024 && cancelledCount > timers.count / 2 {
            timers.removeAll { $0.isCancelled }
            cancelledCount = 0
        }
    }

    private func scheduleWakeUp(at deadline: NIODeadline) {
        wakeUp = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in fireDue() }
    }

    private func fireDue() {
        wakeUp = nil
        firing = true
        defer { firing = false }
        let now = eventLoop.now
        while let first = timers.first, first.deadline <= now {
            timers.removeFirst()
            if first.isCancelled {
                cancelledCount -= 1
            } else {
                first.fire()
            }
        }
        // Cancelled timers at the front would only cause wake-ups with nothing to do.
        while let first = timers.first, first.isCancelled {
            timers.removeFirst()
            cancelledCount -= 1
        }
        if let first = timers.first { scheduleWakeUp(at: first.deadline) }
    }
}

@available(*, unavailable)
extension LoopTimerQueue: Sendable {}

/// One armed timer of a ``LoopTimerQueue``.
public final class LoopTimer {
    let deadline: NIODeadline
    private unowned let queue: LoopTimerQueue
    private var action: (() -> Void)?

    init(deadline: NIODeadline, queue: LoopTimerQueue, action: @escaping () -> Void) {
        self.deadline = deadline
        self.queue = queue
        self.action = action
    }

    var isCancelled: Bool { action == nil }

    /// Stops the timer (nothing happens when it has fired or was cancelled). Releases the action,
    /// and what it captured, at once.
    public func cancel() {
        guard action != nil else { return }
        action = nil
        queue.timerCancelled()
    }

    func fire() {
        guard let action else { return }
        self.action = nil
        action()
    }
}

@available(*, unavailable)
extension LoopTimer: Sendable {}
