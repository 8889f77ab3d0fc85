import GatewayCore
import Logging
import ServiceLifecycle

/// Gives memory back to the system after a crowd leaves. glibc keeps freed memory in its
/// arenas, so after 10,000 clients disconnect the process would stay at its peak size; when the
/// connection count has fallen to under half of its peak (and by at least `threshold`), one
/// `malloc_trim` returns the free pages. Checked every 5 s; costs nothing while the count is flat.
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
            let now = engine.sessionCount
            peak = max(peak, now)
            guard peak - now >= threshold, now < peak / 2 else { continue }
            #if canImport(Glibc)
            GlibcMalloc.trim()
            #endif
            logger.debug("Returned free memory after connections left", metadata: ["connections.peak": "\(peak)", "connections.now": "\(now)"])
            peak = now
        }
    }
}
