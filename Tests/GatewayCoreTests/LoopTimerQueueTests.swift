import GatewayCore
import GatewayMetrics
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

/// The per-loop timer queue behind connection deadlines and heartbeats, on a real event loop.
@Suite("Loop timer queue")
struct LoopTimerQueueTests {
    /// Runs `body` on a fresh loop's context and waits for the promise it completes.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (LoopContext, EventLoopPromise<T>) -> Void) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let context = LoopContext(eventLoop: loop)
        let promise = loop.makePromise(of: T.self)
        loop.execute { body(context, promise) }
        let result = try await promise.futureResult.get()
        try await group.shutdownGracefully()
        return result
    }

    @Test("timers fire in the order they were armed, and cancelled ones never fire")
    func firesInOrderAndSkipsCancelled() async throws {
        let fired = try await onLoop { (context: LoopContext, done: EventLoopPromise<[Int]>) in
            let queue = context.timers(after: .milliseconds(20))
            let log = Box<[Int]>([])
            var timers: [LoopTimer] = []
            for index in 0..<10 { timers.append(queue.arm { log.value.append(index) }) }
            timers[3].cancel()
            timers[7].cancel()
            // A later timer on the same queue: fires after all of the above.
            _ = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(5)) {
                _ = queue.arm { done.succeed(log.value) }
            }
        }
        #expect(fired == [0, 1, 2, 4, 5, 6, 8, 9])
    }

    @Test("a timer armed while others fire (a heartbeat re-armed by its own ping) still fires")
    func armedWhileFiring() async throws {
        let rounds = try await onLoop { (context: LoopContext, done: EventLoopPromise<Int>) in
            let queue = context.timers(after: .milliseconds(5))
            let count = Box(0)
            func again() {
                count.value += 1
                if count.value == 5 { done.succeed(count.value) } else { _ = queue.arm(again) }
            }
            _ = queue.arm(again)
        }
        #expect(rounds == 5)
    }

    @Test("cancelling releases what the action captured, and cancelled timers do not pile up")
    func cancelReleasesAndCompacts() async throws {
        let (released, stored, pending) = try await onLoop { (context: LoopContext, done: EventLoopPromise<(Bool, Int, Int)>) in
            // Long enough that nothing fires during the test.
            let queue = context.timers(after: .seconds(60))
            weak var weakTarget: Target?
            do {
                let target = Target()
                weakTarget = target
                queue.arm { target.touch() }.cancel()
            }
            // 10,000 connections whose deadline was met: armed, then cancelled.
            var live: [LoopTimer] = []
            for index in 0..<10_000 {
                let timer = queue.arm {}
                if index % 10 == 0 { live.append(timer) } else { timer.cancel() }
            }
            done.succeed((weakTarget == nil, queue.storedCount, queue.pendingCount))
            live.forEach { $0.cancel() }
        }
        #expect(released)
        #expect(pending == 1_000)
        #expect(stored <= 2 * 1_000 + 1_024)
    }
}

private final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

private final class Target: @unchecked Sendable {
    var touched = 0
    func touch() { touched += 1 }
}

/// The same queue on virtual time: when exactly each timer fires.
@Suite("Loop timer queue, on virtual time")
struct LoopTimerQueueDeadlineTests {
    let loop = EmbeddedEventLoop()
    let delay = TimeAmount.milliseconds(100)
    let nanosecond = TimeAmount.nanoseconds(1)

    @Test("a timer fires at its deadline, not a nanosecond before, and later ones wait for theirs")
    func firesExactlyAtItsDeadline() {
        let context = LoopContext(eventLoop: loop)
        let queue = context.timers(after: delay)
        var fired: [String] = []
        _ = queue.arm { fired.append("a") }
        loop.advanceTime(by: .milliseconds(50))
        _ = queue.arm { fired.append("b") }
        loop.advanceTime(by: .milliseconds(50) - nanosecond)
        #expect(fired.isEmpty)
        loop.advanceTime(by: nanosecond)
        #expect(fired == ["a"])
        loop.advanceTime(by: .milliseconds(50) - nanosecond)
        #expect(fired == ["a"])
        loop.advanceTime(by: nanosecond)
        #expect(fired == ["a", "b"])
        #expect(queue.pendingCount == 0 && queue.storedCount == 0)
    }

    @Test("cancelled timers at the front neither fire nor hold up a live one behind them")
    func cancelledFrontEntries() {
        let context = LoopContext(eventLoop: loop)
        let queue = context.timers(after: delay)
        var fired: [String] = []
        let first = queue.arm { fired.append("first") }
        loop.advanceTime(by: .milliseconds(10))
        let second = queue.arm { fired.append("second") }
        loop.advanceTime(by: .milliseconds(10))
        _ = queue.arm { fired.append("third") }
        first.cancel()
        second.cancel()
        #expect(queue.pendingCount == 1)
        loop.advanceTime(by: delay - nanosecond)
        #expect(fired.isEmpty)
        loop.advanceTime(by: nanosecond)
        #expect(fired == ["third"])
        #expect(queue.pendingCount == 0 && queue.storedCount == 0)
    }

    @Test("an action that cancels a timer due in the same pass stops it")
    func cancelDuringTheSamePass() {
        let context = LoopContext(eventLoop: loop)
        let queue = context.timers(after: delay)
        var fired: [String] = []
        var later: LoopTimer?
        _ = queue.arm {
            fired.append("a")
            later?.cancel()
        }
        later = queue.arm { fired.append("b") }
        loop.advanceTime(by: delay)
        #expect(fired == ["a"])
        #expect(queue.pendingCount == 0 && queue.storedCount == 0)
    }

    @Test("a timer armed after all others were cancelled fires a full delay after it was armed")
    func armAfterEverythingWasCancelled() {
        let context = LoopContext(eventLoop: loop)
        let queue = context.timers(after: delay)
        var fired = 0
        queue.arm { fired += 100 }.cancel()
        loop.advanceTime(by: .milliseconds(60))
        _ = queue.arm { fired += 1 }
        loop.advanceTime(by: delay - nanosecond)
        #expect(fired == 0)
        loop.advanceTime(by: nanosecond)
        #expect(fired == 1)
    }

    @Test("a heartbeat re-armed by its own action keeps its period")
    func rearmedFromItsOwnAction() {
        let context = LoopContext(eventLoop: loop)
        let queue = context.timers(after: delay)
        var beats = 0
        func beat() {
            beats += 1
            _ = queue.arm(beat)
        }
        _ = queue.arm(beat)
        loop.advanceTime(by: delay * 3 - nanosecond)
        #expect(beats == 2)
        loop.advanceTime(by: nanosecond)
        #expect(beats == 3)
    }
}
