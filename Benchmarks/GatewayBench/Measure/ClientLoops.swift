import NIOCore
import NIOPosix

/// The load client's event loops (`--threads`), each with its own statistics.
final class ClientLoops: Sendable {
    let group: MultiThreadedEventLoopGroup
    let loops: [any EventLoop]
    let stats: [LoopStats]

    init(threads: Int) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        loops = group.makeIterator().map { $0 }
        stats = loops.map { _ in LoopStats() }
    }

    /// Every loop's figures, each read on its own loop, merged.
    func snapshot() async throws -> StatsSnapshot {
        var merged = StatsSnapshot()
        for (loop, stats) in zip(loops, stats) {
            merged.merge(try await loop.submit { stats.snapshot }.get())
        }
        return merged
    }

    /// Runs `body` on each loop with that loop's statistics.
    func forEach(_ body: @escaping @Sendable (LoopStats) -> Void) async throws {
        for (loop, stats) in zip(loops, stats) {
            try await loop.submit { body(stats) }.get()
        }
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
