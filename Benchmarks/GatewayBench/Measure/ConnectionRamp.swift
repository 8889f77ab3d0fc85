import NIOCore

/// Starts `clients` clients spread over the loops, at most `inFlight` handshakes at a time, with
/// a progress line a second; returns once every client is ready or has failed.
enum ConnectionRamp {
    struct Outcome {
        var channels: [any Channel]
        var failed: Int
        var seconds: Double
    }

    static func run(
        clients: Int, inFlight: Int, loops: ClientLoops, progress: Progress, start: @escaping LoopWave.Start
    ) async throws -> Outcome {
        let started = NIODeadline.now()
        let count = loops.loops.count
        let shares = loops.loops.enumerated().map { index, loop in
            LoopWave(
                loop: loop, first: index, step: count, end: clients,
                limit: inFlight / count + (index < inFlight % count ? 1 : 0), stats: loops.stats[index], start: start
            )
        }
        let delta = Delta()
        let line: @Sendable () async -> String? = {
            var connected = 0
            for share in shares { connected += (try? await share.loop.submit { share.channels.count }.get()) ?? 0 }
            guard let stats = try? await loops.snapshot() else { return nil }
            return "connected \(connected.grouped)/\(clients.grouped)  rate \(delta.next(connected).grouped)/s  "
                + "p99 \(stats.connects.quantile(0.99).milliseconds)  errors \(stats.errorCount.grouped)"
        }
        try await progress.reporting(line) {
            for share in shares { share.loop.execute { share.run() } }
            for share in shares { try await share.done.futureResult.get() }
        }
        var outcome = Outcome(channels: [], failed: 0, seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9)
        for share in shares {
            let (opened, failed) = try await share.loop.submit { (share.channels, share.failed) }.get()
            outcome.channels += opened
            outcome.failed += failed
        }
        return outcome
    }
}
