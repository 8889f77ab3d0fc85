import GatewayCore
import Logging
import ServiceLifecycle

/// Gives memory back to the system after a crowd leaves. glibc keeps freed memory in its
/// arenas, so after 10,000 clients disconnect the process would stay at its peak size; when the
/// connection count has fallen to under half of its peak (and by at least `threshold`), the free
/// pages go back. Checked every 5 s (the peak in between counts too: a crowd that came and went
/// between two looks still does); costs nothing while the count is flat.
struct MemoryReturnService: Service {
    let engine: EngineServer
    let logger: Logger
    var threshold = 1000
    var interval: Duration = .seconds(5)

    func run() async throws {
        // Cancelled at graceful shutdown, so its sleep never holds up the process's exit.
        try? await cancelWhenGracefulShutdown { await watch() }
    }

    private func watch() async {
        var peak = engine.sessionCount
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            peak = max(peak, engine.takeSessionPeak())
            let now = engine.sessionCount
            guard peak - now >= threshold, now < peak / 2 else { continue }
            #if canImport(Glibc)
            GlibcMalloc.trim()
            #endif
            logger.debug("Returned free memory after connections left", metadata: ["connections.peak": "\(peak)", "connections.now": "\(now)"])
            peak = now
        }
    }
}
