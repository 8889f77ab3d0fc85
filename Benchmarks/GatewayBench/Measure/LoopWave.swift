import NIOCore

/// One event loop's share of a connection ramp, driven with futures on that loop only: no Swift
/// task or thread hop per connection, so the load client costs little next to the server it
/// measures. Starts the clients `first`, `first + step`, … below `end`, keeping up to `limit`
/// handshakes in flight.
final class LoopWave: @unchecked Sendable {
    typealias Start = @Sendable (_ index: Int, _ loop: any EventLoop, _ stats: LoopStats) -> EventLoopFuture<any Channel>

    let loop: any EventLoop
    private var next: Int
    private let step: Int
    private let end: Int
    private var inFlight = 0
    private let limit: Int
    private let start: Start
    private let stats: LoopStats
    private(set) var channels: [any Channel] = []
    private(set) var failed = 0
    let done: EventLoopPromise<Void>

    init(loop: any EventLoop, first: Int, step: Int, end: Int, limit: Int, stats: LoopStats, start: @escaping Start) {
        self.loop = loop
        next = first
        self.step = step
        self.end = end
        self.limit = max(1, limit)
        self.stats = stats
        self.start = start
        done = loop.makePromise()
        channels.reserveCapacity(max(0, (end - first + step - 1) / step))
    }

    /// Call on `loop`.
    func run() {
        if next >= end && inFlight == 0 { return done.succeed() }
        while inFlight < limit && next < end { launch() }
    }

    private func launch() {
        let index = next
        next += step
        inFlight += 1
        let begin = NIODeadline.now()
        start(index, loop, stats).whenComplete { [self] result in
            inFlight -= 1
            switch result {
            case .success(let channel):
                stats.connects.record(nanos: UInt64((NIODeadline.now() - begin).nanoseconds))
                channels.append(channel)
            case .failure(let error):
                failed += 1
                stats.record(ClientFailure(error))
            }
            run()
        }
    }
}
