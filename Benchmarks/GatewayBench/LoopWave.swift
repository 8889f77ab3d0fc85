import NIOCore
import NIOPosix

/// One event loop's share of a connection wave, driven with futures on that loop only: no Swift
/// task or thread hop per connection, so the load client costs little next to the server it
/// measures. Keeps up to `limit` handshakes in flight until `remaining` is used up.
final class LoopWave: @unchecked Sendable {
    let loop: any EventLoop
    private var remaining: Int
    private var inFlight = 0
    private let limit: Int
    private let start: @Sendable (any EventLoop) -> EventLoopFuture<any Channel>
    private let stats: LoopStats
    private(set) var channels: [any Channel] = []
    private(set) var failed = 0
    let done: EventLoopPromise<Void>

    init(loop: any EventLoop, clients: Int, limit: Int, stats: LoopStats, start: @escaping @Sendable (any EventLoop) -> EventLoopFuture<any Channel>) {
        self.loop = loop
        remaining = clients
        self.limit = max(1, limit)
        self.stats = stats
        self.start = start
        done = loop.makePromise()
        channels.reserveCapacity(clients)
    }

    /// Call on `loop`.
    func run() {
        if remaining == 0 && inFlight == 0 { return done.succeed() }
        while inFlight < limit && remaining > 0 { launch() }
    }

    private func launch() {
        remaining -= 1
        inFlight += 1
        let begin = NIODeadline.now()
        start(loop).whenComplete { [self] result in
            inFlight -= 1
            switch result {
            case .success(let channel):
                stats.record(latencyNanos: UInt64((NIODeadline.now() - begin).nanoseconds))
                channels.append(channel)
            case .failure:
                failed += 1
            }
            run()
        }
    }
}
