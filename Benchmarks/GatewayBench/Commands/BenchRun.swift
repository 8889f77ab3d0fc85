import NIOCore

/// What every load command does around its scenario: the client loops, a first client to each
/// server before the load (one clear error instead of thousands of failures), the report on
/// stdout, and the loops shut down however the run ends.
enum BenchRun {
    static func run<Report: BenchReport>(
        launcher: ClientLauncher, threads: Int, output: OutputOptions,
        scenario: (ClientLoops, Progress) async throws -> Report
    ) async throws -> Report {
        let loops = ClientLoops(threads: threads)
        do {
            try await preflight(launcher: launcher, loops: loops)
            let report = try await scenario(loops, Progress(quiet: output.quiet))
            await loops.shutdown()
            try report.emit(asJSON: output.json, jsonFile: output.jsonFile)
            return report
        } catch {
            await loops.shutdown()
            throw error
        }
    }

    /// One client to each server, all the way to its ack, then closed; its figures are not kept.
    static func preflight(launcher: ClientLauncher, loops: ClientLoops) async throws {
        for (index, target) in launcher.targets.enumerated() {
            do {
                let channel = try await launcher.start(index: index, on: loops.loops[0], stats: LoopStats()).get()
                try await channel.close()
            } catch {
                let request = launcher.script.event.map { "\"\($0)\" with an ack" } ?? "join only"
                throw RunFailure(
                    "no client gets through to \(target.display) (namespace \(launcher.script.namespace), \(request)): "
                        + "\(ClientFailure(error)); nothing was measured"
                )
            }
        }
    }
}
