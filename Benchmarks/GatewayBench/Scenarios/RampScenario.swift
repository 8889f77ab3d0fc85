import NIOCore

/// `ramp`: waves of clients that connect, join the namespace, send the request and are ready at
/// its ack, at most `inFlight` handshakes at a time. After each wave every client leaves the
/// way a crashed or closed client process does (the kernel closes the socket: FIN, no close
/// frame) and the next wave starts at once. With the server's pid: its RSS and descriptors
/// after each wave and after it left, so a server that keeps departed clients shows it.
enum RampScenario {
    struct Plan {
        var clients: Int
        var inFlight: Int
        var waves: Int
        var serverPID: Int?
    }

    static func run(plan: Plan, launcher: ClientLauncher, loops: ClientLoops, progress: Progress, report: RampReport) async throws -> RampReport {
        var report = report
        report.serverBefore = ServerState(pid: plan.serverPID)
        var allConnects = LatencySnapshot()
        for wave in 1...plan.waves {
            try await loops.forEach { $0.connects.reset() }
            let outcome = try await ConnectionRamp.run(
                clients: plan.clients, inFlight: plan.inFlight, loops: loops, progress: progress, start: launcher.start
            )
            let stats = try await loops.snapshot()
            allConnects.merge(stats.connects)
            var row = RampReport.Wave(
                wave: wave, connected: outcome.channels.count, errors: outcome.failed, seconds: outcome.seconds,
                latency: stats.connects.summary, server: ServerState(pid: plan.serverPID)
            )
            if plan.waves > 1 {
                progress.print("wave \(wave)/\(plan.waves): \(row.connected.grouped) connected at \(row.ratePerSecond.grouped)/s, leaving")
            }
            for channel in outcome.channels { channel.close(promise: nil) }
            for channel in outcome.channels { try? await channel.closeFuture.get() }
            if plan.serverPID != nil {
                try await Task.sleep(for: .milliseconds(200))
                row.serverAfterLeaving = ServerState(pid: plan.serverPID)
            }
            report.waves.append(row)
        }
        if plan.serverPID != nil {
            try await Task.sleep(for: .seconds(2))
            report.serverAtEnd = ServerState(pid: plan.serverPID)
        }
        let stats = try await loops.snapshot()
        report.latency = allConnects.summary
        report.errors = stats.errors
        report.firstError = stats.firstError
        return report
    }
}
