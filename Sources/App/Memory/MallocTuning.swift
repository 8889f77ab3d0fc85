import Foundation
import Logging

/// glibc's allocator settings for a process that sends a lot: every loop tick each busy socket
/// joins its frames in a buffer of its own (up to 64 KiB), hands it to the kernel and frees it.
/// With glibc's defaults the top of an arena is handed back to the kernel as soon as 128 KiB
/// lie free there, and buffers past the (adaptive) mmap threshold get pages of their own: the
/// next tick faults the same pages in again. At 2.5 M deliveries/s that was 45,000–60,000 page
/// faults a second, a fifth of the gateway's CPU samples (docs/performance.md). Here up to
/// 16 MiB stay free at the top of each arena, and allocations under 4 MiB come from the arenas.
/// ``MemoryReturnService`` still returns memory explicitly once a crowd leaves. (A threshold of
/// 64 MiB, a whole thread arena, would keep those arenas from ever shrinking: `malloc_trim`
/// leaves their tops alone.)
///
/// Left alone when the operator set malloc options (`GLIBC_TUNABLES` or the `MALLOC_*_`
/// variables): their choice wins.
enum MallocTuning {
    static let trimThreshold: Int32 = 16 << 20
    static let mmapThreshold: Int32 = 4 << 20

    static func apply(logger: Logger) {
        #if canImport(Glibc)
        let environment = ProcessInfo.processInfo.environment
        let operatorSet = environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.") == true
            || environment.keys.contains { $0.hasPrefix("MALLOC_") && $0.hasSuffix("_") }
        if operatorSet {
            logger.debug("Malloc settings left to the environment")
            return
        }
        let applied = GlibcMalloc.setOption(GlibcMalloc.trimThreshold, trimThreshold) == 1
            && GlibcMalloc.setOption(GlibcMalloc.mmapThreshold, mmapThreshold) == 1
        logger.debug("Malloc settings", metadata: ["malloc.applied": "\(applied)", "malloc.trim_threshold": "\(trimThreshold)", "malloc.mmap_threshold": "\(mmapThreshold)"])
        #endif
    }
}
