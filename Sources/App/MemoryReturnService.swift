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
            _ = mallocTrim(0)
            #endif
            logger.debug("Returned free memory after connections left", metadata: ["connections.peak": "\(peak)", "connections.now": "\(now)"])
            peak = now
        }
    }
}

#if canImport(Glibc)
import Glibc

/// glibc's `int malloc_trim(size_t pad)`, which Swift's Glibc module does not import: looked up
/// once and called with the C calling convention (a Swift-side declaration would not be).
private let mallocTrimFunction: (@convention(c) (Int) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
}()

private func mallocTrim(_ pad: Int) -> Int32 { mallocTrimFunction?(pad) ?? 0 }
#endif
