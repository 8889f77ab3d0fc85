import NIOCore

/// Where the fan-out's messages come from.
enum TickSource: String, CaseIterable, Sendable {
    /// The server makes them (the gateway's simulator or replay, or a producer you run); the
    /// subscribers time them by their `ts`.
    case server
    /// This tool POSTs ticks to the gateway's /api/v1/market (needs a service token).
    case post
    /// The echo app (ConformanceServer's /bench) rebroadcasts this tool's events to a room.
    case echo
    /// A plain WebSocket server rebroadcasts this tool's `B`-prefixed text frames.
    case raw
}

/// `fanout` and `symbols`: subscribers connect and subscribe (at most `inFlight` at a time),
/// then one row per step: a rate this tool offers for `seconds`, or a window of the server's
/// own ticks. Per step: deliveries per second, the share of the offered load delivered, and
/// the latency percentiles.
enum FanoutScenario {
    struct Plan {
        var subscribers: Int
        var inFlight: Int
        var source: TickSource
        /// One entry per step: the rate this tool offers, nil for a window of the server's ticks.
        var steps: [Int?]
        var seconds: Double
        var token: String?
        var room: String
    }

    static func run(plan: Plan, launcher: ClientLauncher, loops: ClientLoops, progress: Progress, report: FanoutReport) async throws -> FanoutReport {
        var report = report
        let outcome = try await ConnectionRamp.run(
            clients: plan.subscribers, inFlight: plan.inFlight, loops: loops, progress: progress, start: launcher.start
        )
        report.connected = outcome.channels.count
        report.connectSeconds = outcome.seconds
        guard !outcome.channels.isEmpty else {
            throw RunFailure("no subscriber got to its ack: \(try await loops.snapshot().firstError ?? "no error recorded")")
        }
        let ticks = try await TickDriver.start(plan: plan, launcher: launcher, loops: loops)
        defer { ticks.close() }
        try await Task.sleep(for: .seconds(1))  // subscriptions settle (each gets the latest price at once)

        var all = LatencySnapshot()
        for (index, rate) in plan.steps.enumerated() {
            try await loops.forEach {
                $0.deliveries.reset()
                $0.deliveredBytes = 0
            }
            let delta = Delta()
            _ = delta.next(try await loops.snapshot().deliveries.total)
            let title = rate.map { "step \(index + 1)/\(plan.steps.count) (\($0.grouped)/s)" } ?? "window \(index + 1)/\(plan.steps.count)"
            let offered = try await progress.reporting({
                guard let stats = try? await loops.snapshot() else { return nil }
                return "\(title)  deliveries \(delta.next(stats.deliveries.total).grouped)/s  p99 \(stats.deliveries.quantile(0.99).milliseconds)  "
                    + "errors \(stats.errorCount.grouped)"
            }) {
                try await ticks.run(rate: rate, seconds: plan.seconds)
            }
            // Deliveries still in flight land before the window is read.
            if rate != nil { try await Task.sleep(for: .milliseconds(300)) }
            let stats = try await loops.snapshot()
            all.merge(stats.deliveries)
            let watchers = plan.source == .post
                ? Double(report.connected * report.perClient) / Double(max(1, report.symbols)) : Double(report.connected)
            report.steps.append(FanoutReport.Step(
                step: index + 1, rate: rate, seconds: plan.seconds, deliveries: stats.deliveries.count, bytes: stats.deliveredBytes,
                deliveredPercent: offered.map { 100 * Double(stats.deliveries.count) / max(1, Double($0.accepted) * watchers) },
                latency: stats.deliveries.summary, ticksRefused: plan.source == .post ? offered?.refused : nil
            ))
        }
        for channel in outcome.channels { channel.close(promise: nil) }
        let stats = try await loops.snapshot()
        report.latency = all.summary
        report.errors = stats.errors
        report.firstError = stats.firstError
        return report
    }
}
